import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/core/app.ts';
import { MAX_DOCUMENTS_PER_SESSION } from '../src/core/documents/service.ts';
import type { SessionEvent } from '../src/core/ports.ts';
import { createIntegration, createSession, makeTestApp, startedSession, type TestApp } from './helpers.ts';

// ---- Tiny real files, made here from bytes ----

const enc = new TextEncoder();

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function u32be(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
}

function u32le(n: number): Uint8Array {
  return new Uint8Array([n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255]);
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const typed = concat(enc.encode(type), data);
  return concat(u32be(data.length), typed, u32be(crc32(typed)));
}

/** A valid 1×1 red PNG. */
function makePng(): Uint8Array {
  const ihdr = concat(u32be(1), u32be(1), new Uint8Array([8, 2, 0, 0, 0]));
  const pixels = new Uint8Array(deflateSync(new Uint8Array([0, 255, 0, 0])));
  return concat(
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', pixels),
    pngChunk('IEND', new Uint8Array(0)),
  );
}

const PDF = enc.encode(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n' +
    'trailer<</Root 1 0 R>>\n%%EOF\n',
);
const PNG = makePng();
const JPEG = concat(
  new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]),
  enc.encode('JFIF\0'),
  new Uint8Array([1, 1, 0, 0, 1, 0, 1, 0, 0, 0xff, 0xd9]),
);
const WEBP_BODY = concat(enc.encode('WEBPVP8L'), u32le(5), new Uint8Array([0x2f, 0, 0, 0, 0]), new Uint8Array([0]));
const WEBP = concat(enc.encode('RIFF'), u32le(WEBP_BODY.length), WEBP_BODY);
const TXT = enc.encode('\uFEFFAnswers for question 3:\r\n\tx = 42 — ünïcödé\f\n');

const FILES = [
  { name: 'essay.pdf', bytes: PDF, type: 'application/pdf' },
  { name: 'diagram.png', bytes: PNG, type: 'image/png' },
  { name: 'photo.JPG', bytes: JPEG, type: 'image/jpeg' },
  { name: 'scan.webp', bytes: WEBP, type: 'image/webp' },
  { name: 'notes.txt', bytes: TXT, type: 'text/plain' },
] as const;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// ---- Request helpers ----

async function uploadMultipart(
  t: TestApp,
  path: string,
  token: string,
  file: { name: string; bytes: Uint8Array; declaredType?: string },
): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.set('file', new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: file.declaredType ?? 'application/octet-stream' }), file.name);
  const res = await t.app.request(path, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: res.status, body: await res.json() };
}

function uploadJson(t: TestApp, path: string, token: string, file: { name: string; bytes: Uint8Array; declaredType?: string }) {
  return t.call('POST', path, {
    token,
    body: { fileName: file.name, contentType: file.declaredType, dataBase64: Buffer.from(file.bytes).toString('base64') },
  });
}

async function download(t: TestApp, path: string, token: string) {
  const res = await t.app.request(path, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}

const MINE = '/api/widget/session/documents';
const theirs = (sessionId: string) => `/api/widget/sessions/${sessionId}/documents`;

async function documentRows(t: TestApp, sessionId: string) {
  return t.deps.db.selectFrom('documents').selectAll().where('session_id', '=', sessionId).execute();
}

function blobFiles(t: TestApp, sessionId: string): string[] {
  const dir = join(t.dataDir, 'blobs', 'sessions', sessionId, 'documents');
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe('documents', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => t.close());

  it('accepts each allowed type through multipart and JSON, lists them and serves the exact bytes', async () => {
    const { integration, session } = await startedSession(t);
    const uploaded: any[] = [];
    for (const file of FILES) {
      for (const via of ['multipart', 'json'] as const) {
        const res =
          via === 'multipart'
            ? await uploadMultipart(t, MINE, session.sessionToken, file)
            : await uploadJson(t, MINE, session.sessionToken, file);
        expect(res.status, `${file.name} via ${via}: ${JSON.stringify(res.body)}`).toBe(201);
        expect(res.body).toMatchObject({
          sessionId: session.sessionId,
          fileName: file.name,
          contentType: file.type,
          sizeBytes: file.bytes.length,
          sha256: sha256(file.bytes),
          uploadedBy: 'candidate',
        });
        expect(res.body.id).toMatch(/^doc_[A-Za-z0-9]{20}$/);
        uploaded.push({ ...res.body, bytes: file.bytes });
        t.clock.advance(1000);
      }
    }

    const listed = await t.call('GET', MINE, { token: session.sessionToken });
    expect(listed.status).toBe(200);
    expect(listed.body.documents.map((d: any) => d.id)).toEqual(uploaded.map((d) => d.id));
    const proctorList = await t.call('GET', theirs(session.sessionId), { token: integration.apiKey });
    expect(proctorList.body.documents).toEqual(listed.body.documents);

    for (const doc of uploaded) {
      for (const [path, token] of [
        [`${MINE}/${doc.id}`, session.sessionToken],
        [`${theirs(session.sessionId)}/${doc.id}`, integration.apiKey],
      ] as const) {
        const res = await download(t, path, token);
        expect(res.status).toBe(200);
        expect(Buffer.from(res.bytes).equals(Buffer.from(doc.bytes))).toBe(true);
        expect(res.headers.get('content-type')).toMatch(new RegExp(`^${doc.contentType}(;|$)`));
        expect(res.headers.get('content-length')).toBe(String(doc.bytes.length));
        expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${doc.fileName}"; filename*=UTF-8''${doc.fileName}`);
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('cache-control')).toBe('private, no-store');
      }
    }
    expect(blobFiles(t, session.sessionId)).toHaveLength(uploaded.length);
  });

  it('detects the type from the bytes and refuses a name that disagrees (415)', async () => {
    const { session } = await startedSession(t);
    const html = enc.encode('  <!DOCTYPE html><html><script>alert(1)</script></html>');
    const spoofed = await uploadMultipart(t, MINE, session.sessionToken, { name: 'report.pdf', bytes: html, declaredType: 'application/pdf' });
    expect(spoofed.status).toBe(415);
    expect(spoofed.body.error.code).toBe('unsupported_file_type');
    expect(spoofed.body.error.message).toContain('HTML');

    const svg = await uploadJson(t, MINE, session.sessionToken, { name: 'x.txt', bytes: enc.encode('\uFEFF\n<svg onload=alert(1)>') });
    expect(svg.status).toBe(415);

    const pngAsText = await uploadJson(t, MINE, session.sessionToken, { name: 'notes.txt', bytes: PNG, declaredType: 'text/plain' });
    expect(pngAsText.status).toBe(415);
    expect(pngAsText.body.error.message).toMatch(/PNG image.*\.txt.*\.png/);

    const textAsPdf = await uploadMultipart(t, MINE, session.sessionToken, { name: 'essay.pdf', bytes: enc.encode('just words') });
    expect(textAsPdf.status).toBe(415);
    expect(textAsPdf.body.error.message).toContain('plain text');

    const binary = await uploadMultipart(t, MINE, session.sessionToken, { name: 'a.txt', bytes: new Uint8Array([0x41, 0x00, 0x42]) });
    expect(binary.status).toBe(415);
    const gif = await uploadMultipart(t, MINE, session.sessionToken, { name: 'a.gif', bytes: concat(enc.encode('GIF89a'), new Uint8Array([0, 0, 0xff])) });
    expect(gif.status).toBe(415);
    expect(gif.body.error.message).toContain('GIF');

    // The declared type is only informative: a PNG declared as PDF is stored as a PNG.
    const declared = await uploadJson(t, MINE, session.sessionToken, { name: 'a.png', bytes: PNG, declaredType: 'application/pdf' });
    expect(declared.status).toBe(201);
    expect(declared.body.contentType).toBe('image/png');
    expect(await documentRows(t, session.sessionId)).toHaveLength(1);
    expect(blobFiles(t, session.sessionId)).toHaveLength(1);
  });

  it('sanitizes the stored name and encodes it safely on download', async () => {
    const { session } = await startedSession(t);
    const res = await uploadJson(t, MINE, session.sessionToken, { name: '../../etc/évaluation "finale"\u0007\u202e.txt', bytes: TXT });
    expect(res.status).toBe(201);
    expect(res.body.fileName).toBe('évaluation _finale_.txt');
    const file = await download(t, `${MINE}/${res.body.id}`, session.sessionToken);
    expect(file.headers.get('content-disposition')).toBe(
      `attachment; filename="_valuation _finale_.txt"; filename*=UTF-8''%C3%A9valuation%20_finale_.txt`,
    );

    const long = await uploadJson(t, MINE, session.sessionToken, { name: `${'a'.repeat(250)}.txt`, bytes: TXT });
    expect(long.status).toBe(201);
    expect(long.body.fileName).toBe(`${'a'.repeat(196)}.txt`);

    const nothing = await uploadJson(t, MINE, session.sessionToken, { name: 'dir/..', bytes: TXT });
    expect(nothing.status).toBe(400);
    expect(nothing.body.error.code).toBe('invalid_file_name');
  });

  it('refuses a file over the limit (413) and leaves no row and no blob', async () => {
    await t.close();
    t = await makeTestApp({ config: { maxDocumentBytes: 1000 } });
    const { integration, session } = await startedSession(t);
    const big = enc.encode('x'.repeat(1001));
    const viaForm = await uploadMultipart(t, MINE, session.sessionToken, { name: 'big.txt', bytes: big });
    expect(viaForm.status).toBe(413);
    expect(viaForm.body.error.code).toBe('payload_too_large');
    const viaJson = await uploadJson(t, theirs(session.sessionId), integration.apiKey, { name: 'big.txt', bytes: big });
    expect(viaJson.status).toBe(413);
    // A body far past the limit is cut off while streaming, whatever its framing.
    const huge = await uploadMultipart(t, MINE, session.sessionToken, { name: 'huge.txt', bytes: enc.encode('y'.repeat(5_000_000)) });
    expect(huge.status).toBe(413);
    const declared = await t.call('POST', MINE, {
      token: session.sessionToken,
      headers: { 'content-length': '99999999' },
      body: '{"fileName":"a.txt","dataBase64":"eA=="}',
    });
    expect(declared.status).toBe(413);
    expect(await documentRows(t, session.sessionId)).toHaveLength(0);
    expect(blobFiles(t, session.sessionId)).toHaveLength(0);

    const exact = await uploadMultipart(t, MINE, session.sessionToken, { name: 'fits.txt', bytes: enc.encode('x'.repeat(1000)) });
    expect(exact.status).toBe(201);
  });

  it('answers malformed uploads with clear 4xx errors', async () => {
    const { session } = await startedSession(t);
    const empty = await uploadMultipart(t, MINE, session.sessionToken, { name: 'a.txt', bytes: new Uint8Array(0) });
    expect([empty.status, empty.body.error.code]).toEqual([400, 'empty_file']);
    const badBase64 = await t.call('POST', MINE, { token: session.sessionToken, body: { fileName: 'a.txt', dataBase64: 'not base64!' } });
    expect([badBase64.status, badBase64.body.error.code]).toEqual([400, 'invalid_base64']);
    const noName = await t.call('POST', MINE, { token: session.sessionToken, body: { dataBase64: 'eA==' } });
    expect([noName.status, noName.body.error.code]).toEqual([400, 'validation_failed']);
    const plain = await t.call('POST', MINE, { token: session.sessionToken, body: 'hello', headers: { 'content-type': 'text/plain' } });
    expect([plain.status, plain.body.error.code]).toEqual([415, 'unsupported_media_type']);
    const form = new FormData();
    form.set('other', 'value');
    const noFile = await t.app.request(MINE, { method: 'POST', headers: { authorization: `Bearer ${session.sessionToken}` }, body: form });
    expect(noFile.status).toBe(400);
    expect(((await noFile.json()) as any).error.code).toBe('file_required');
    const broken = await t.call('POST', MINE, {
      token: session.sessionToken,
      body: 'garbage',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
    });
    expect([broken.status, broken.body.error.code]).toEqual([400, 'invalid_multipart']);
    expect(await documentRows(t, session.sessionId)).toHaveLength(0);
  });

  it('refuses path-like and malformed ids without touching the blob store', async () => {
    const { integration, session } = await startedSession(t);
    const ok = await uploadJson(t, MINE, session.sessionToken, { name: 'a.txt', bytes: TXT });
    expect(ok.status).toBe(201);
    const get = vi.spyOn(t.deps.blobs, 'get');
    const ids = ['..%2F..%2Fetc%2Fpasswd', 'doc_..%2Fx', `${ok.body.id}.txt`, 'doc_abc%2Fdef', `${ok.body.id}%00`, '%2e%2e%2Fx'];
    for (const id of ids) {
      for (const [path, token] of [
        [`${MINE}/${id}`, session.sessionToken],
        [`${theirs(session.sessionId)}/${id}`, integration.apiKey],
      ] as const) {
        const res = await t.call('GET', path, { token });
        expect(res.status, path).toBe(404);
        expect(res.body.error.code, path).toBe('document_not_found');
      }
    }
    // Dot segments are resolved by URL parsing before routing: these never reach a document route.
    for (const [path, token] of [
      [`${MINE}/../x`, session.sessionToken],
      [`${MINE}/%2e%2e`, session.sessionToken],
      [`${theirs(session.sessionId)}/../../x`, integration.apiKey],
    ] as const) {
      expect((await t.call('GET', path, { token })).status, path).toBe(404);
    }
    expect(get).not.toHaveBeenCalled();
  });

  it("keeps each session's documents to itself and each integration's sessions to itself (404)", async () => {
    const { integration, session } = await startedSession(t);
    const mine = await uploadJson(t, MINE, session.sessionToken, { name: 'a.txt', bytes: TXT });
    const otherSession = await createSession(t, integration.apiKey);
    const other = await createIntegration(t, { name: 'Other LMS' });
    const othersSession = await createSession(t, other.apiKey);

    const crossSession = await t.call('GET', `${MINE}/${mine.body.id}`, { token: otherSession.sessionToken });
    expect([crossSession.status, crossSession.body.error.code]).toEqual([404, 'document_not_found']);
    expect((await t.call('GET', MINE, { token: otherSession.sessionToken })).body.documents).toEqual([]);
    const viaOtherSessionPath = await t.call('GET', `${theirs(otherSession.sessionId)}/${mine.body.id}`, { token: integration.apiKey });
    expect(viaOtherSessionPath.status).toBe(404);

    const foreignList = await t.call('GET', theirs(session.sessionId), { token: other.apiKey });
    expect([foreignList.status, foreignList.body.error.code]).toEqual([404, 'session_not_found']);
    const foreignGet = await t.call('GET', `${theirs(session.sessionId)}/${mine.body.id}`, { token: other.apiKey });
    expect(foreignGet.status).toBe(404);
    const foreignViaOwn = await t.call('GET', `${theirs(othersSession.sessionId)}/${mine.body.id}`, { token: other.apiKey });
    expect([foreignViaOwn.status, foreignViaOwn.body.error.code]).toEqual([404, 'document_not_found']);
    const foreignUpload = await uploadJson(t, theirs(session.sessionId), other.apiKey, { name: 'b.txt', bytes: TXT });
    expect(foreignUpload.status).toBe(404);
    expect(await documentRows(t, session.sessionId)).toHaveLength(1);
  });

  it('shows proctor uploads to the candidate and candidate uploads to the proctor, and announces them', async () => {
    const { integration, session } = await startedSession(t);
    const events: SessionEvent[] = [];
    const unsubscribe = t.deps.bus.subscribe(session.sessionId, (e) => events.push(e));
    const fromProctor = await uploadMultipart(t, theirs(session.sessionId), integration.apiKey, { name: 'instructions.pdf', bytes: PDF });
    expect(fromProctor.status).toBe(201);
    expect(fromProctor.body.uploadedBy).toBe('proctor');
    t.clock.advance(1000);
    const fromCandidate = await uploadJson(t, MINE, session.sessionToken, { name: 'answer.png', bytes: PNG });
    unsubscribe();

    const candidateView = await t.call('GET', MINE, { token: session.sessionToken });
    expect(candidateView.body.documents.map((d: any) => [d.fileName, d.uploadedBy])).toEqual([
      ['instructions.pdf', 'proctor'],
      ['answer.png', 'candidate'],
    ]);
    const got = await download(t, `${MINE}/${fromProctor.body.id}`, session.sessionToken);
    expect(Buffer.from(got.bytes).equals(Buffer.from(PDF))).toBe(true);
    const proctorGot = await download(t, `${theirs(session.sessionId)}/${fromCandidate.body.id}`, integration.apiKey);
    expect(Buffer.from(proctorGot.bytes).equals(Buffer.from(PNG))).toBe(true);

    expect(events.filter((e) => e.event === 'document').map((e) => e.data)).toEqual([fromProctor.body, fromCandidate.body]);
  });

  it('lets the candidate upload only before the session ends; the proctor until erasure', async () => {
    const integration = await createIntegration(t);
    const session = await createSession(t, integration.apiKey);
    const beforeStart = await uploadJson(t, MINE, session.sessionToken, { name: 'id.jpg', bytes: JPEG });
    expect(beforeStart.status).toBe(201);
    await t.deps.db.updateTable('sessions').set({ status: 'completed', ended_at: t.clock.now() }).where('id', '=', session.sessionId).execute();
    const after = await uploadJson(t, MINE, session.sessionToken, { name: 'late.txt', bytes: TXT });
    expect([after.status, after.body.error.code]).toEqual([409, 'session_ended']);
    const proctor = await uploadJson(t, theirs(session.sessionId), integration.apiKey, { name: 'feedback.txt', bytes: TXT });
    expect(proctor.status).toBe(201);
    expect(await documentRows(t, session.sessionId)).toHaveLength(2);
    expect(blobFiles(t, session.sessionId)).toHaveLength(2);
  });

  it('caps documents per session; a write that loses the race leaves no blob behind', async () => {
    const { session } = await startedSession(t);
    for (let i = 0; i < MAX_DOCUMENTS_PER_SESSION - 1; i++) {
      expect((await uploadJson(t, MINE, session.sessionToken, { name: `n${i}.txt`, bytes: TXT })).status).toBe(201);
    }
    // Both pass the early check; the transaction lets only one in and the other's blob is removed.
    const results = await Promise.all([
      uploadMultipart(t, MINE, session.sessionToken, { name: 'last-a.txt', bytes: TXT }),
      uploadMultipart(t, MINE, session.sessionToken, { name: 'last-b.txt', bytes: TXT }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(results.find((r) => r.status === 409)?.body.error.code).toBe('document_limit_reached');
    expect(await documentRows(t, session.sessionId)).toHaveLength(MAX_DOCUMENTS_PER_SESSION);
    expect(blobFiles(t, session.sessionId)).toHaveLength(MAX_DOCUMENTS_PER_SESSION);
  });

  it('erasure removes the rows and the blobs on disk, and the session takes no more documents', async () => {
    const { integration, session } = await startedSession(t);
    const a = await uploadJson(t, MINE, session.sessionToken, { name: 'a.txt', bytes: TXT });
    const b = await uploadMultipart(t, theirs(session.sessionId), integration.apiKey, { name: 'b.webp', bytes: WEBP });
    const blobDir = join(t.dataDir, 'blobs', 'sessions', session.sessionId, 'documents');
    expect(readdirSync(blobDir).sort()).toEqual([a.body.id, b.body.id].sort());
    expect(new Uint8Array(readFileSync(join(blobDir, b.body.id)))).toEqual(WEBP);

    const erased = await t.call('DELETE', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(erased.status).toBe(200);
    expect(existsSync(join(t.dataDir, 'blobs', 'sessions', session.sessionId))).toBe(false);
    expect(await documentRows(t, session.sessionId)).toHaveLength(0);
    expect((await t.call('GET', theirs(session.sessionId), { token: integration.apiKey })).body.documents).toEqual([]);
    expect((await t.call('GET', `${theirs(session.sessionId)}/${a.body.id}`, { token: integration.apiKey })).status).toBe(404);

    const late = await uploadJson(t, theirs(session.sessionId), integration.apiKey, { name: 'c.txt', bytes: TXT });
    expect([late.status, late.body.error.code]).toEqual([409, 'session_ended']);
    expect(existsSync(join(t.dataDir, 'blobs', 'sessions', session.sessionId))).toBe(false);
  });

  it('documents every route, with multipart as an alternative body for uploads', () => {
    const { docs } = createApp(t.deps);
    const routes = docs.filter((d) => d.tag === 'Documents');
    expect(routes.map((d) => `${d.method} ${d.path}`).sort()).toEqual([
      'get /api/widget/session/documents',
      'get /api/widget/session/documents/:id',
      'get /api/widget/sessions/:id/documents',
      'get /api/widget/sessions/:id/documents/:docId',
      'post /api/widget/session/documents',
      'post /api/widget/sessions/:id/documents',
    ]);
    for (const upload of routes.filter((d) => d.method === 'post')) {
      expect(upload.bodyAlternatives?.map((b) => b.contentType)).toEqual(['multipart/form-data']);
    }
  });
});
