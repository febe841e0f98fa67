import { z } from 'zod';
import { IsoDateTime } from './common.ts';

/** Containers the server stores, as detected from a segment's bytes. */
export const RECORDING_CONTENT_TYPES = ['video/webm', 'video/mp4'] as const;
export type RecordingContentType = (typeof RECORDING_CONTENT_TYPES)[number];

/** Highest segment sequence number (zero-padded to six digits in storage). */
export const MAX_RECORDING_SEQUENCE = 999_999;
/** Longest duration one segment may claim: one hour. */
export const MAX_SEGMENT_DURATION_MS = 3_600_000;

/** A whole number written in decimal, as a query parameter carries it ("" and "1e3" are refused). */
function decimalInt(max: number, description: string) {
  return z
    .string()
    .regex(/^\d{1,10}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(0).max(max))
    .meta({ description });
}

/**
 * Query of `POST /api/widget/session/recording/segments`. The body is the segment's raw bytes; its
 * metadata travels in the query so that the browser's CORS preflight stays simple.
 */
export const UploadRecordingSegmentQuery = z.object({
  sequence: decimalInt(MAX_RECORDING_SEQUENCE, 'Position of the segment in the recording, from 0. Retrying a sequence is safe.'),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal characters')
    .transform((s) => s.toLowerCase())
    .meta({ description: 'SHA-256 of the body, hex. The server recomputes it and refuses a mismatch (422).' }),
  durationMs: decimalInt(MAX_SEGMENT_DURATION_MS, 'Duration of the segment in milliseconds.'),
  startedAt: IsoDateTime.meta({ description: 'When recording of the segment began (ISO 8601).' }),
});
export type UploadRecordingSegmentQuery = z.input<typeof UploadRecordingSegmentQuery>;

export const RecordingSegment = z
  .object({
    sequence: z.number().int(),
    sha256: z.string(),
    bytes: z.number().int(),
    durationMs: z.number().int(),
    startedAt: IsoDateTime,
    contentType: z.enum(RECORDING_CONTENT_TYPES),
  })
  .meta({ id: 'RecordingSegment' });
export type RecordingSegment = z.infer<typeof RecordingSegment>;

/** What the widget learns of the segments the server already holds (to resume uploads after a reload). */
export const ListRecordingSegmentsResponse = z
  .object({ segments: z.array(RecordingSegment) })
  .meta({ id: 'ListRecordingSegmentsResponse' });
export type ListRecordingSegmentsResponse = z.infer<typeof ListRecordingSegmentsResponse>;

/** A session's recording for the LMS: every segment with its download path, in sequence order. */
export const SessionRecording = z
  .object({
    sessionId: z.string(),
    segments: z.array(
      RecordingSegment.extend({
        url: z.string().meta({ description: 'Path of the download (API key; supports HTTP range requests).' }),
      }),
    ),
    totalDurationMs: z.number().int(),
  })
  .meta({ id: 'SessionRecording' });
export type SessionRecording = z.infer<typeof SessionRecording>;

/** Counts shown in SessionDetail. */
export const RecordingSummary = z
  .object({ segments: z.number().int(), totalDurationMs: z.number().int() })
  .meta({ id: 'RecordingSummary' });
export type RecordingSummary = z.infer<typeof RecordingSummary>;

export const RecordConsentRequest = z
  .object({
    text: z
      .string()
      .min(1)
      .max(8000)
      .meta({ description: 'The consent text exactly as the candidate saw it; the server keeps its SHA-256.' }),
  })
  .meta({ id: 'RecordConsentRequest' });
export type RecordConsentRequest = z.infer<typeof RecordConsentRequest>;

export const ConsentRecord = z
  .object({
    consentAt: IsoDateTime,
    textSha256: z.string().meta({ description: 'SHA-256 (hex) of the UTF-8 consent text accepted.' }),
  })
  .meta({ id: 'ConsentRecord' });
export type ConsentRecord = z.infer<typeof ConsentRecord>;
