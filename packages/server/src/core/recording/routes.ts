import { ListRecordingSegmentsResponse, RecordingSegment, SessionRecording, UploadRecordingSegmentQuery } from '@secureaccess/protocol';
import type { Context } from 'hono';
import { requireApiKey, requireSessionToken } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { readBodyBytes, validate, type ApiRouter, type AppEnv, type SessionRow } from '../http.ts';
import { loadOwnSession } from '../sessions/routes.ts';
import {
  assertAcceptsSegments,
  assertDeclaredVideoType,
  listSegments,
  loadSegment,
  MAX_SEGMENTS_PER_SESSION,
  segmentResponse,
  storeSegment,
} from './service.ts';

/** How far ahead of the server's clock a segment's start may be before it is refused. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

const RAW_BODY = [
  { contentType: 'video/webm', description: 'One self-contained WebM segment as MediaRecorder produced it (codecs parameters allowed).' },
  { contentType: 'video/mp4', description: 'One self-contained MP4 segment (Safari).' },
];

/** Path of a segment's download, as listed to the LMS. */
export function segmentUrl(sessionId: string, sequence: number): string {
  return `/api/widget/sessions/${sessionId}/recording/segments/${sequence}`;
}

/** Recording segments: uploaded by the widget (session token), listed and downloaded by the LMS (API key). */
export function registerRecordingRoutes(api: ApiRouter, deps: AppDeps): void {
  const token = requireSessionToken(deps);
  const apiKey = requireApiKey(deps);

  async function ownUnerasedSession(c: Context<AppEnv>): Promise<SessionRow> {
    const row = await loadOwnSession(deps, c.get('integration'), c.req.param('id')!);
    if (row.erased_at !== null) throw new ApiError(410, 'session_erased', "This session's personal data has been erased; its recording is gone.");
    return row;
  }

  api.route(
    {
      method: 'post',
      path: '/api/widget/session/recording/segments',
      tag: 'Widget',
      summary: 'Upload a recording segment',
      description:
        'The body is the raw bytes of one self-contained segment (`Content-Type: video/webm` or `video/mp4`); its metadata is in the query. ' +
        'The container is recognised from the bytes and the SHA-256 checked. Idempotent on `sequence`: the same bytes again answer the stored segment (200), other bytes are refused (409 `segment_conflict`). ' +
        `Accepted once the session has started, also after it ended (segments recorded before an auto-stop or a closed tab). At most the configured size (16 MB by default) and ${MAX_SEGMENTS_PER_SESSION} segments per session.`,
      auth: 'sessionToken',
      query: UploadRecordingSegmentQuery,
      bodyAlternatives: RAW_BODY,
      responses: {
        201: { description: 'Stored.', schema: RecordingSegment },
        200: { description: 'This sequence was already stored with the same bytes.', schema: RecordingSegment },
      },
      errors: [
        'validation_failed',
        'unsupported_media_type',
        'payload_too_large',
        'checksum_mismatch',
        'segment_conflict',
        'segment_limit_reached',
        'session_not_started',
        'session_ended',
      ],
    },
    token,
    async (c) => {
      const query = validate(UploadRecordingSegmentQuery, c.req.query(), 'query');
      const startedAt = Date.parse(query.startedAt);
      if (startedAt > deps.clock.now() + MAX_CLOCK_SKEW_MS) throw new ApiError(400, 'validation_failed', 'startedAt is in the future.');
      assertDeclaredVideoType(c.req.header('content-type'));
      const sessionId = c.get('session').id;
      await assertAcceptsSegments(deps.db, sessionId);
      const bytes = await readBodyBytes(c, deps.config.maxRecordingSegmentBytes);
      const { segment, created } = await storeSegment(deps, sessionId, {
        sequence: query.sequence,
        sha256: query.sha256,
        durationMs: query.durationMs,
        startedAt,
        bytes,
      });
      return c.json(segment, created ? 201 : 200);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/widget/session/recording',
      tag: 'Widget',
      summary: 'Recording segments the server holds',
      description: 'In sequence order; a reloaded widget uploads only the sequences missing here.',
      auth: 'sessionToken',
      responses: { 200: { description: 'The stored segments.', schema: ListRecordingSegmentsResponse } },
    },
    token,
    async (c) => c.json({ segments: await listSegments(deps, c.get('session').id) }),
  );

  api.route(
    {
      method: 'get',
      path: '/api/widget/sessions/:id/recording',
      tag: 'Sessions',
      summary: "A session's recording",
      description:
        'Segments in sequence order, each with its duration, size, SHA-256 and download path. Every segment plays on its own; gaps in `sequence` are segments the widget never delivered. Gone (410) once the session has been erased.',
      auth: 'apiKey',
      responses: { 200: { description: 'The recording.', schema: SessionRecording } },
      errors: ['session_not_found', 'session_erased'],
    },
    apiKey,
    async (c) => {
      const session = await ownUnerasedSession(c);
      const segments = await listSegments(deps, session.id);
      return c.json({
        sessionId: session.id,
        segments: segments.map((segment) => ({ ...segment, url: segmentUrl(session.id, segment.sequence) })),
        totalDurationMs: segments.reduce((total, segment) => total + segment.durationMs, 0),
      });
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/widget/sessions/:id/recording/segments/:sequence',
      tag: 'Sessions',
      summary: 'Download a recording segment',
      description:
        'The exact bytes uploaded, with `ETag: "<sha256>"` and `Accept-Ranges: bytes`. One `Range: bytes=a-b`, `bytes=a-` or `bytes=-n` answers 206 with `Content-Range`; a range outside the segment answers 416 with `Content-Range: bytes */<size>`; several ranges get the whole segment.',
      auth: 'apiKey',
      responses: {
        200: { description: 'The whole segment.', contentType: 'video/webm' },
        206: { description: 'The requested range.', contentType: 'video/webm' },
      },
      errors: ['session_not_found', 'session_erased', 'segment_not_found', 'range_not_satisfiable'],
    },
    apiKey,
    async (c) => {
      const session = await ownUnerasedSession(c);
      const sequence = c.req.param('sequence')!;
      const { row, bytes } = await loadSegment(deps, session.id, sequence);
      const extension = row.content_type === 'video/mp4' ? 'mp4' : 'webm';
      const fileName = `${session.id}-${String(row.sequence).padStart(6, '0')}.${extension}`;
      return segmentResponse(row, bytes, { range: c.req.header('range'), ifNoneMatch: c.req.header('if-none-match') }, fileName);
    },
  );
}
