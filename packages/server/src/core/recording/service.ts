import type { RecordingContentType, RecordingSegment, RecordingSummary } from '@secureaccess/protocol';
import type { Kysely, Selectable } from 'kysely';
import { newId, sha256Hex } from '../crypto.ts';
import type { Database, RecordingSegmentsTable } from '../db/schema.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError, errors } from '../errors.ts';
import { etagMatches, iso } from '../http.ts';
import { sessionBlobPrefix } from '../sessions/erase.ts';
import { transact } from '../tx.ts';

type SegmentRow = Selectable<RecordingSegmentsTable>;

/** Keeps one session from filling the disk: at 10 s a segment this is more than five hours. */
export const MAX_SEGMENTS_PER_SESSION = 2000;

/**
 * A session takes segments once it has started, also after it ended: the widget uploads what it
 * recorded before an auto-stop, a completion or a closed tab as soon as it can.
 */
const RECORDING_STATUSES: readonly string[] = ['in_progress', 'completed', 'stopped', 'expired'];

/** What the client declares; the stored type comes from the bytes. `video/x-matroska` is what Chrome names H.264 in Matroska. */
const DECLARED_VIDEO_TYPE = /^video\/(webm|mp4|x-matroska)\s*(;|$)/i;

export function toRecordingSegment(row: SegmentRow): RecordingSegment {
  return {
    sequence: Number(row.sequence),
    sha256: row.sha256,
    bytes: Number(row.bytes),
    durationMs: Number(row.duration_ms),
    startedAt: iso(Number(row.started_at)),
    contentType: row.content_type,
  };
}

/** The container of a segment from its first bytes: EBML (WebM/Matroska) or ISO BMFF (`ftyp` box). */
export function sniffRecordingContainer(bytes: Uint8Array): RecordingContentType | null {
  if (bytes.length >= 4 && bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) return 'video/webm';
  if (bytes.length >= 8 && bytes[4] === 0x66 && bytes[5] === 0x74 && bytes[6] === 0x79 && bytes[7] === 0x70) return 'video/mp4';
  return null;
}

/** 415 unless the request declares a video type we store (checked before the body is read). */
export function assertDeclaredVideoType(contentType: string | undefined): void {
  if (!contentType || !DECLARED_VIDEO_TYPE.test(contentType)) {
    throw new ApiError(415, 'unsupported_media_type', 'Send the segment as the raw body with Content-Type video/webm or video/mp4.');
  }
}

/**
 * 409 unless the session takes segments: `session_not_started` before the start, `session_ended`
 * once erased (the token of an erased session is refused earlier; this catches an erasure racing the
 * upload). Routes call it before reading the body, storeSegment again inside its transaction.
 */
export async function assertAcceptsSegments(db: Kysely<Database>, sessionId: string): Promise<void> {
  const session = await db.selectFrom('sessions').select(['status', 'erased_at']).where('id', '=', sessionId).executeTakeFirst();
  if (!session) throw errors.sessionNotFound();
  if (session.erased_at !== null) {
    throw errors.invalidState('session_ended', "The session's personal data has been erased; it takes no more recording.");
  }
  if (!RECORDING_STATUSES.includes(session.status)) {
    throw errors.invalidState('session_not_started', 'The assessment has not started; recording segments are accepted once it has.');
  }
}

async function segmentCount(db: Kysely<Database>, sessionId: string): Promise<number> {
  const { count } = await db
    .selectFrom('recording_segments')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('session_id', '=', sessionId)
    .executeTakeFirstOrThrow();
  return Number(count);
}

async function findSegment(db: Kysely<Database>, sessionId: string, sequence: number): Promise<SegmentRow | undefined> {
  return db
    .selectFrom('recording_segments')
    .selectAll()
    .where('session_id', '=', sessionId)
    .where('sequence', '=', sequence)
    .executeTakeFirst();
}

/** The stored segment when this upload repeats it; 409 `segment_conflict` when the sequence holds other bytes. */
function repeatOf(existing: SegmentRow | undefined, sha256: string): RecordingSegment | null {
  if (!existing) return null;
  if (existing.sha256 !== sha256) {
    throw errors.invalidState(
      'segment_conflict',
      `Segment ${existing.sequence} is already stored with other content (sha256 ${existing.sha256}).`,
    );
  }
  return toRecordingSegment(existing);
}

function assertRoomForOneMore(count: number): void {
  if (count >= MAX_SEGMENTS_PER_SESSION) {
    throw errors.invalidState('segment_limit_reached', `A session holds at most ${MAX_SEGMENTS_PER_SESSION} recording segments.`);
  }
}

export interface SegmentUpload {
  sequence: number;
  sha256: string;
  durationMs: number;
  startedAt: number;
  bytes: Uint8Array;
}

/**
 * Verifies and stores one segment. Idempotent on the sequence: the same bytes again answer the stored
 * segment (`created: false`) without writing anything. The blob is written before the row, under a
 * key of its own, and removed again if the row cannot be written, so a row never points to nothing and
 * a losing concurrent upload never removes the winner's bytes.
 */
export async function storeSegment(
  deps: AppDeps,
  sessionId: string,
  upload: SegmentUpload,
): Promise<{ segment: RecordingSegment; created: boolean }> {
  const contentType = sniffRecordingContainer(upload.bytes);
  if (!contentType) {
    throw new ApiError(
      415,
      'unsupported_media_type',
      upload.bytes.length === 0 ? 'The segment is empty.' : 'The body is neither WebM/Matroska (EBML) nor MP4 (ftyp); send one self-contained segment.',
    );
  }
  const actual = await sha256Hex(upload.bytes);
  if (actual !== upload.sha256) {
    throw new ApiError(422, 'checksum_mismatch', `The body's SHA-256 is ${actual}, not the ${upload.sha256} announced; the segment was not stored.`);
  }

  const repeated = repeatOf(await findSegment(deps.db, sessionId, upload.sequence), upload.sha256);
  if (repeated) return { segment: repeated, created: false };
  assertRoomForOneMore(await segmentCount(deps.db, sessionId));

  const extension = contentType === 'video/mp4' ? 'mp4' : 'webm';
  const blobKey = `${sessionBlobPrefix(sessionId)}recording/${String(upload.sequence).padStart(6, '0')}-${newId('u', 10).slice(2)}.${extension}`;
  const row: SegmentRow = {
    session_id: sessionId,
    sequence: upload.sequence,
    blob_key: blobKey,
    sha256: upload.sha256,
    bytes: upload.bytes.length,
    duration_ms: upload.durationMs,
    started_at: upload.startedAt,
    content_type: contentType,
    created_at: deps.clock.now(),
  };
  await deps.blobs.put(blobKey, upload.bytes, contentType);
  let result: { segment: RecordingSegment; created: boolean };
  try {
    result = await transact(deps, async (tx) => {
      await assertAcceptsSegments(tx.db, sessionId);
      // Checked again inside the transaction: a concurrent upload of this sequence may have won.
      const raced = repeatOf(await findSegment(tx.db, sessionId, upload.sequence), upload.sha256);
      if (raced) return { segment: raced, created: false };
      assertRoomForOneMore(await segmentCount(tx.db, sessionId));
      await tx.db.insertInto('recording_segments').values(row).execute();
      return { segment: toRecordingSegment(row), created: true };
    });
  } catch (error) {
    await removeBlob(deps, sessionId, blobKey);
    throw error;
  }
  if (!result.created) await removeBlob(deps, sessionId, blobKey);
  return result;
}

async function removeBlob(deps: AppDeps, sessionId: string, blobKey: string): Promise<void> {
  await deps.blobs.delete(blobKey).catch((cleanup: unknown) => {
    deps.logger.error('orphan recording blob could not be removed', { sessionId, blobKey, error: String(cleanup) });
  });
}

/** A session's segments in sequence order. */
export async function listSegments(deps: AppDeps, sessionId: string): Promise<RecordingSegment[]> {
  const rows = await deps.db
    .selectFrom('recording_segments')
    .selectAll()
    .where('session_id', '=', sessionId)
    .orderBy('sequence', 'asc')
    .execute();
  return rows.map(toRecordingSegment);
}

/** Segment count and total duration, for SessionDetail. */
export async function recordingSummary(db: Kysely<Database>, sessionId: string): Promise<RecordingSummary> {
  const row = await db
    .selectFrom('recording_segments')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number | null>('duration_ms').as('total')])
    .where('session_id', '=', sessionId)
    .executeTakeFirst();
  return { segments: Number(row?.n ?? 0), totalDurationMs: Number(row?.total ?? 0) };
}

/** A stored segment's row and bytes, or 404 `segment_not_found`. */
export async function loadSegment(deps: AppDeps, sessionId: string, sequenceText: string): Promise<{ row: SegmentRow; bytes: Uint8Array }> {
  if (!/^\d{1,7}$/.test(sequenceText)) throw errors.notFound('segment');
  const row = await findSegment(deps.db, sessionId, Number(sequenceText));
  if (!row) throw errors.notFound('segment');
  const bytes = await deps.blobs.get(row.blob_key);
  if (!bytes) {
    deps.logger.error('recording blob missing', { sessionId, sequence: row.sequence });
    throw errors.notFound('segment');
  }
  return { row, bytes };
}

/** The byte range a `Range` header asks for: all of it, a slice, or nothing satisfiable. */
export type RangeRequest = { kind: 'whole' } | { kind: 'slice'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * Interprets a `Range` header against a body of `size` bytes (RFC 9110 §14). A single range is
 * honoured; several ranges, other units or malformed headers get the whole body, as the RFC allows.
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (!header) return { kind: 'whole' };
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return { kind: 'whole' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'whole' };
  if (first === '') {
    // Suffix range: the last n bytes.
    const length = Number(last);
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'slice', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return { kind: 'unsatisfiable' };
  if (last === '') return { kind: 'slice', start, end: size - 1 };
  const end = Number(last);
  if (end < start) return { kind: 'whole' };
  return { kind: 'slice', start, end: Math.min(end, size - 1) };
}

/** A segment as an HTTP response: whole (200), one range (206), unsatisfiable (416) or unchanged (304). */
export function segmentResponse(
  row: SegmentRow,
  bytes: Uint8Array,
  request: { range?: string; ifNoneMatch?: string },
  fileName: string,
): Response {
  const etag = `"${row.sha256}"`;
  const headers: Record<string, string> = {
    'Accept-Ranges': 'bytes',
    ETag: etag,
    'Cache-Control': 'private, max-age=3600',
    'X-Content-Type-Options': 'nosniff',
    'Content-Disposition': `inline; filename="${fileName}"`,
  };
  if (etagMatches(request.ifNoneMatch, etag)) return new Response(null, { status: 304, headers });
  const size = bytes.length;
  const range = parseRange(request.range, size);
  if (range.kind === 'unsatisfiable') {
    const body = JSON.stringify({ error: { code: 'range_not_satisfiable', message: `The segment has ${size} bytes; the range asked for lies outside it.` } });
    return new Response(body, {
      status: 416,
      headers: { ...headers, 'Content-Type': 'application/json', 'Content-Range': `bytes */${size}` },
    });
  }
  if (range.kind === 'slice') {
    const slice = bytes.subarray(range.start, range.end + 1);
    return new Response(slice as Uint8Array<ArrayBuffer>, {
      status: 206,
      headers: {
        ...headers,
        'Content-Type': row.content_type,
        'Content-Length': String(slice.length),
        'Content-Range': `bytes ${range.start}-${range.end}/${size}`,
      },
    });
  }
  return new Response(bytes as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: { ...headers, 'Content-Type': row.content_type, 'Content-Length': String(size) },
  });
}
