import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_SEGMENTS_PER_SESSION, parseRange } from '../src/core/recording/service.ts';
import { purgeExpiredPersonalData } from '../src/core/sessions/erase.ts';
import { createIntegration, createSession, makeTestApp, startedSession, type TestApp } from './helpers.ts';

const EBML = [0x1a, 0x45, 0xdf, 0xa3];

/** Bytes that sniff as WebM: the EBML magic, then `length - 4` bytes derived from `seed`. */
function webm(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  out.set(EBML);
  for (let i = 4; i < length; i++) out[i] = (i * 31 + seed * 17) & 255;
  return out;
}

/** An MP4 start: a `ftyp` box. */
function mp4(length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set([0, 0, 0, 24, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]);
  return out;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

interface UploadOptions {
  sha?: string;
  durationMs?: number | string;
  startedAt?: string;
  contentType?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

async function upload(t: TestApp, token: string, sequence: number | string, bytes: Uint8Array, options: UploadOptions = {}) {
  const query = new URLSearchParams({
    sequence: String(sequence),
    sha256: options.sha ?? sha256(bytes),
    durationMs: String(options.durationMs ?? 10_000),
    startedAt: options.startedAt ?? new Date(t.clock.now()).toISOString(),
    ...options.query,
  });
  const res = await t.app.request(`/api/widget/session/recording/segments?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': options.contentType ?? 'video/webm;codecs=vp8,opus', ...options.headers },
    body: bytes as Uint8Array<ArrayBuffer>,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

async function download(t: TestApp, apiKey: string, path: string, headers: Record<string, string> = {}, method = 'GET') {
  const res = await t.app.request(path, { method, headers: { authorization: `Bearer ${apiKey}`, ...headers } });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}

function recordingFiles(t: TestApp, sessionId: string): string[] {
  const dir = join(t.dataDir, 'blobs', 'sessions', sessionId, 'recording');
  return existsSync(dir) ? readdirSync(dir) : [];
}

async function segmentRows(t: TestApp, sessionId: string) {
  return t.deps.db.selectFrom('recording_segments').selectAll().where('session_id', '=', sessionId).orderBy('sequence').execute();
}

describe('recording segments: upload (session token)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp({ config: { maxRecordingSegmentBytes: 4096 } });
  });
  afterEach(async () => t.close());

  it('stores a new segment (201) and answers a repeat with the stored one (200), writing once', async () => {
    const { session } = await startedSession(t);
    const bytes = webm(1000);
    const startedAt = new Date(t.clock.now() - 10_000).toISOString();
    const first = await upload(t, session.sessionToken, 0, bytes, { startedAt, durationMs: 9_980 });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ sequence: 0, sha256: sha256(bytes), bytes: 1000, durationMs: 9_980, startedAt, contentType: 'video/webm' });

    const again = await upload(t, session.sessionToken, 0, bytes, { startedAt, durationMs: 9_980 });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    // An upper-case checksum is the same checksum.
    const upper = await upload(t, session.sessionToken, 0, bytes, { sha: sha256(bytes).toUpperCase() });
    expect(upper.status).toBe(200);

    expect(await segmentRows(t, session.sessionId)).toHaveLength(1);
    expect(recordingFiles(t, session.sessionId)).toHaveLength(1);
    expect(recordingFiles(t, session.sessionId)[0]).toMatch(/^000000-[A-Za-z0-9]+\.webm$/);
  });

  it('keeps one row and one blob when the same segment arrives twice at once', async () => {
    const { session } = await startedSession(t);
    const bytes = webm(2000, 7);
    const results = await Promise.all([upload(t, session.sessionToken, 3, bytes), upload(t, session.sessionToken, 3, bytes)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 201]);
    expect(results[0]!.body).toEqual(results[1]!.body);
    expect(await segmentRows(t, session.sessionId)).toHaveLength(1);
    expect(recordingFiles(t, session.sessionId)).toHaveLength(1);
  });

  it('refuses other bytes under a stored sequence (409 segment_conflict) and keeps the first', async () => {
    const { session } = await startedSession(t);
    const first = webm(500, 1);
    expect((await upload(t, session.sessionToken, 4, first)).status).toBe(201);
    const other = await upload(t, session.sessionToken, 4, webm(500, 2));
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('segment_conflict');
    const rows = await segmentRows(t, session.sessionId);
    expect(rows.map((r) => r.sha256)).toEqual([sha256(first)]);
    expect(recordingFiles(t, session.sessionId)).toHaveLength(1);
  });

  it('refuses a body whose SHA-256 differs from the announced one (422) and stores nothing', async () => {
    const { session } = await startedSession(t);
    const res = await upload(t, session.sessionToken, 0, webm(800), { sha: sha256(webm(800, 9)) });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('checksum_mismatch');
    expect(await segmentRows(t, session.sessionId)).toHaveLength(0);
    expect(recordingFiles(t, session.sessionId)).toHaveLength(0);
  });

  it('accepts MP4 and refuses bytes that are neither WebM nor MP4, or a non-video Content-Type (415)', async () => {
    const { session } = await startedSession(t);
    const movie = await upload(t, session.sessionToken, 1, mp4(600), { contentType: 'video/mp4' });
    expect(movie.status).toBe(201);
    expect(movie.body.contentType).toBe('video/mp4');
    expect(recordingFiles(t, session.sessionId)[0]).toMatch(/^000001-.+\.mp4$/);

    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const notVideo = await upload(t, session.sessionToken, 2, png);
    expect(notVideo.status).toBe(415);
    expect(notVideo.body.error.code).toBe('unsupported_media_type');
    const empty = await upload(t, session.sessionToken, 2, new Uint8Array(0));
    expect(empty.status).toBe(415);

    const declared = await upload(t, session.sessionToken, 2, webm(100), { contentType: 'application/octet-stream' });
    expect(declared.status).toBe(415);
    expect(declared.body.error.code).toBe('unsupported_media_type');
    expect(await segmentRows(t, session.sessionId)).toHaveLength(1);
  });

  it('refuses a segment over the configured size (413), with or without Content-Length, and stores nothing', async () => {
    const { session } = await startedSession(t);
    const big = webm(4097);
    const streamed = await upload(t, session.sessionToken, 0, big);
    expect(streamed.status).toBe(413);
    expect(streamed.body.error.code).toBe('payload_too_large');
    const declared = await upload(t, session.sessionToken, 0, big, { headers: { 'content-length': String(big.length) } });
    expect(declared.status).toBe(413);
    expect(await segmentRows(t, session.sessionId)).toHaveLength(0);
    expect(recordingFiles(t, session.sessionId)).toHaveLength(0);
    expect((await upload(t, session.sessionToken, 0, webm(4096))).status).toBe(201);
  });

  it('validates the query (400 validation_failed)', async () => {
    const { session } = await startedSession(t);
    const bytes = webm(100);
    const cases: Record<string, string>[] = [
      { sequence: '-1' },
      { sequence: '' },
      { sequence: '1.5' },
      { sequence: '1e3' },
      { sequence: '1000000' },
      { sha256: 'abc' },
      { sha256: 'z'.repeat(64) },
      { durationMs: 'ten' },
      { durationMs: '3600001' },
      { startedAt: 'yesterday' },
      { startedAt: new Date(t.clock.now() + 3_600_000).toISOString() },
    ];
    for (const query of cases) {
      const res = await upload(t, session.sessionToken, 0, bytes, { query });
      expect({ query, status: res.status, code: res.body.error?.code }).toEqual({ query, status: 400, code: 'validation_failed' });
    }
    expect(await segmentRows(t, session.sessionId)).toHaveLength(0);
  });

  it('refuses segments before the start (409 session_not_started) and accepts them after the end', async () => {
    const integration = await createIntegration(t);
    const created = await createSession(t, integration.apiKey);
    const early = await upload(t, created.sessionToken, 0, webm(100));
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('session_not_started');

    const { session } = await startedSession(t);
    expect((await upload(t, session.sessionToken, 0, webm(100, 1))).status).toBe(201);
    expect((await t.call('POST', '/api/widget/session/stop', { token: session.sessionToken, body: {} })).status).toBe(200);
    // Evidence recorded before the stop still arrives afterwards.
    expect((await upload(t, session.sessionToken, 1, webm(100, 2))).status).toBe(201);
  });

  it('stops at the per-session segment limit (409 segment_limit_reached), but still answers repeats', async () => {
    const { session } = await startedSession(t);
    const stored = webm(100);
    expect((await upload(t, session.sessionToken, 0, stored)).status).toBe(201);
    const now = t.clock.now();
    const rows = Array.from({ length: MAX_SEGMENTS_PER_SESSION - 1 }, (_, i) => ({
      session_id: session.sessionId,
      sequence: i + 1,
      blob_key: `sessions/${session.sessionId}/recording/filler-${i + 1}`,
      sha256: '0'.repeat(64),
      bytes: 1,
      duration_ms: 1,
      started_at: now,
      content_type: 'video/webm' as const,
      created_at: now,
    }));
    for (let i = 0; i < rows.length; i += 200) await t.deps.db.insertInto('recording_segments').values(rows.slice(i, i + 200)).execute();
    const over = await upload(t, session.sessionToken, MAX_SEGMENTS_PER_SESSION, webm(100, 3));
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe('segment_limit_reached');
    expect((await upload(t, session.sessionToken, 0, stored)).status).toBe(200);
    expect(recordingFiles(t, session.sessionId)).toHaveLength(1);
  });

  it('lists the stored segments to the widget, in sequence order', async () => {
    const { session } = await startedSession(t);
    const empty = await t.call('GET', '/api/widget/session/recording', { token: session.sessionToken });
    expect(empty).toMatchObject({ status: 200, body: { segments: [] } });
    for (const sequence of [2, 0, 1]) await upload(t, session.sessionToken, sequence, webm(100 + sequence, sequence));
    const res = await t.call('GET', '/api/widget/session/recording', { token: session.sessionToken });
    expect(res.body.segments.map((s: { sequence: number; bytes: number }) => [s.sequence, s.bytes])).toEqual([
      [0, 100],
      [1, 101],
      [2, 102],
    ]);
  });

  it('passes the CORS preflight of a cross-origin video upload', async () => {
    const { session } = await startedSession(t);
    const preflight = await t.app.request('/api/widget/session/recording/segments?sequence=0', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://lms.example.edu',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://lms.example.edu');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    const res = await upload(t, session.sessionToken, 0, webm(100), { headers: { origin: 'https://lms.example.edu' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://lms.example.edu');
  });
});

describe('recording segments: the LMS side (API key)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => t.close());

  async function recordedSession() {
    const { integration, session } = await startedSession(t);
    const segments = [webm(1000, 1), webm(1500, 2), webm(700, 3)];
    const start = t.clock.now();
    // Out of order, as a resumed upload queue may deliver them.
    for (const sequence of [1, 0, 2]) {
      const res = await upload(t, session.sessionToken, sequence, segments[sequence]!, {
        durationMs: 10_000 + sequence,
        startedAt: new Date(start + sequence * 10_000).toISOString(),
      });
      expect(res.status).toBe(201);
    }
    return { integration, session, segments, start };
  }

  it('lists the segments in order with durations, checksums and download paths', async () => {
    const { integration, session, segments, start } = await recordedSession();
    const res = await t.call('GET', `/api/widget/sessions/${session.sessionId}/recording`, { token: integration.apiKey });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      sessionId: session.sessionId,
      totalDurationMs: 30_003,
      segments: segments.map((bytes, sequence) => ({
        sequence,
        startedAt: new Date(start + sequence * 10_000).toISOString(),
        durationMs: 10_000 + sequence,
        bytes: bytes.length,
        sha256: sha256(bytes),
        contentType: 'video/webm',
        url: `/api/widget/sessions/${session.sessionId}/recording/segments/${sequence}`,
      })),
    });
    const detail = await t.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(detail.body.recording).toEqual({ segments: 3, totalDurationMs: 30_003 });
  });

  it('downloads a segment whole, by range, by suffix, and refuses an unsatisfiable range (416)', async () => {
    const { integration, session, segments } = await recordedSession();
    const path = `/api/widget/sessions/${session.sessionId}/recording/segments/1`;
    const bytes = segments[1]!;

    const whole = await download(t, integration.apiKey, path);
    expect(whole.status).toBe(200);
    expect(whole.bytes).toEqual(bytes);
    expect(whole.headers.get('content-type')).toBe('video/webm');
    expect(whole.headers.get('content-length')).toBe('1500');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
    expect(whole.headers.get('cache-control')).toBe('private, max-age=3600');

    const middle = await download(t, integration.apiKey, path, { range: 'bytes=100-199' });
    expect(middle.status).toBe(206);
    expect(middle.headers.get('content-range')).toBe('bytes 100-199/1500');
    expect(middle.headers.get('content-length')).toBe('100');
    expect(middle.bytes).toEqual(bytes.slice(100, 200));

    const open = await download(t, integration.apiKey, path, { range: 'bytes=1400-' });
    expect(open.status).toBe(206);
    expect(open.headers.get('content-range')).toBe('bytes 1400-1499/1500');
    expect(open.bytes).toEqual(bytes.slice(1400));

    const suffix = await download(t, integration.apiKey, path, { range: 'bytes=-10' });
    expect(suffix.status).toBe(206);
    expect(suffix.headers.get('content-range')).toBe('bytes 1490-1499/1500');
    expect(suffix.bytes).toEqual(bytes.slice(1490));

    const pastEnd = await download(t, integration.apiKey, path, { range: 'bytes=1000-99999' });
    expect(pastEnd.status).toBe(206);
    expect(pastEnd.headers.get('content-range')).toBe('bytes 1000-1499/1500');

    const outside = await download(t, integration.apiKey, path, { range: 'bytes=1500-' });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe('bytes */1500');

    const several = await download(t, integration.apiKey, path, { range: 'bytes=0-1,5-6' });
    expect(several.status).toBe(200);
    expect(several.bytes).toEqual(bytes);

    const unchanged = await download(t, integration.apiKey, path, { 'if-none-match': `"${sha256(bytes)}"` });
    expect(unchanged.status).toBe(304);

    const head = await download(t, integration.apiKey, path, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('1500');
    expect(head.bytes).toHaveLength(0);
  });

  it('answers 404 for a missing or malformed sequence', async () => {
    const { integration, session } = await recordedSession();
    for (const sequence of ['7', 'abc', '-1', '1.0', '99999999']) {
      const res = await t.call('GET', `/api/widget/sessions/${session.sessionId}/recording/segments/${sequence}`, { token: integration.apiKey });
      expect({ sequence, status: res.status, code: res.body.error.code }).toEqual({ sequence, status: 404, code: 'segment_not_found' });
    }
  });

  it("hides another integration's recording (404) and refuses a session token (401)", async () => {
    const { session } = await recordedSession();
    const other = await createIntegration(t, { name: 'Other LMS' });
    for (const path of [`/api/widget/sessions/${session.sessionId}/recording`, `/api/widget/sessions/${session.sessionId}/recording/segments/0`]) {
      const res = await t.call('GET', path, { token: other.apiKey });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('session_not_found');
      const withToken = await t.call('GET', path, { token: session.sessionToken });
      expect(withToken.status).toBe(401);
      expect(withToken.body.error.code).toBe('invalid_api_key');
    }
  });

  it('erasure removes the segments, rows and blobs alike', async () => {
    const { integration, session } = await recordedSession();
    expect(recordingFiles(t, session.sessionId)).toHaveLength(3);
    const erased = await t.call('DELETE', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(erased.status).toBe(200);
    expect(erased.body.recording).toEqual({ segments: 0, totalDurationMs: 0 });
    expect(await segmentRows(t, session.sessionId)).toHaveLength(0);
    expect(recordingFiles(t, session.sessionId)).toHaveLength(0);

    const list = await t.call('GET', `/api/widget/sessions/${session.sessionId}/recording`, { token: integration.apiKey });
    expect(list.status).toBe(410);
    expect(list.body.error.code).toBe('session_erased');
    const segment = await t.call('GET', `/api/widget/sessions/${session.sessionId}/recording/segments/0`, { token: integration.apiKey });
    expect(segment.status).toBe(410);
    // The token of an erased session opens nothing, uploads included.
    const late = await upload(t, session.sessionToken, 3, webm(100));
    expect(late.status).toBe(401);
    expect(late.body.error.code).toBe('invalid_session_token');
  });

  it('the retention purge removes recordings too', async () => {
    const { session } = await recordedSession();
    t.clock.advance(31 * 24 * 3600_000);
    expect(await purgeExpiredPersonalData(t.deps)).toBeGreaterThanOrEqual(1);
    expect(await segmentRows(t, session.sessionId)).toHaveLength(0);
    expect(recordingFiles(t, session.sessionId)).toHaveLength(0);
  });
});

describe('parseRange', () => {
  it('reads single byte ranges and leaves everything else whole', () => {
    expect(parseRange(undefined, 10)).toEqual({ kind: 'whole' });
    expect(parseRange('bytes=0-0', 10)).toEqual({ kind: 'slice', start: 0, end: 0 });
    expect(parseRange('bytes=-20', 10)).toEqual({ kind: 'slice', start: 0, end: 9 });
    expect(parseRange('bytes=-0', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=5-2', 10)).toEqual({ kind: 'whole' });
    expect(parseRange('items=0-1', 10)).toEqual({ kind: 'whole' });
    expect(parseRange('bytes=-', 10)).toEqual({ kind: 'whole' });
  });
});
