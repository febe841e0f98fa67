import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsStaticAssets } from '../src/adapters/fs-static-assets.ts';
import { createApp } from '../src/core/app.ts';
import { CONSOLE_CSP, CONSOLE_SHELL } from '../src/core/console/pages.ts';
import { sniffImageType } from '../src/core/face/images.ts';
import { faceBlobKeys } from '../src/core/face/service.ts';
import type { FaceEngine, FaceVerifyResult } from '../src/core/ports.ts';
import { createIntegration, createSession, eventId, makeTestApp, markEnrolled, startedSession, type TestApp } from './helpers.ts';

const TWELVE_HOURS = 12 * 60 * 60 * 1000;

/** Signs in through the API; returns the response, the token and a ready `cookie` header. */
async function login(t: TestApp, apiKey: string, headers: Record<string, string> = {}) {
  const res = await t.call('POST', '/api/console/login', { body: { apiKey }, headers });
  const setCookie = res.headers.get('set-cookie') ?? '';
  const token = /^sa_console=([^;]*)/.exec(setCookie)?.[1] ?? '';
  return { res, setCookie, token, cookie: { cookie: `sa_console=${token}` } };
}

/** What a same-origin console page sends on unsafe requests. */
const CSRF = { 'x-secureaccess-console': '1' };

describe('console sign-in (cookie sessions)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => t.close());

  it('signs in with the API key: an HttpOnly SameSite=Strict cookie, stored only as a hash', async () => {
    const integration = await createIntegration(t, { name: 'Exam LMS' });
    const { res, setCookie, token, cookie } = await login(t, integration.apiKey);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ integration: { id: integration.id, name: 'Exam LMS' }, expiresAt: new Date(t.clock.now() + TWELVE_HOURS).toISOString() });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(token).toMatch(/^sa_con_[A-Za-z0-9_-]{43}$/);
    expect(setCookie).toBe(`sa_console=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200`);
    expect(JSON.stringify(res.body)).not.toContain(token);

    const rows = await t.deps.db.selectFrom('console_sessions').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ integration_id: integration.id, expires_at: t.clock.now() + TWELVE_HOURS });
    expect(rows[0]!.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(integration.apiKey);
    expect(stored).not.toContain(createHash('sha256').update(integration.apiKey).digest('hex'));

    const me = await t.call('GET', '/api/console/me', { headers: cookie });
    expect(me.status).toBe(200);
    expect(me.body).toEqual(res.body);
    // Neither the key nor the token reaches the log.
    const logged = JSON.stringify(t.logger.lines);
    expect(logged).not.toContain(token);
    expect(logged).not.toContain(integration.apiKey);
  });

  it('adds Secure when the request came over https', async () => {
    const integration = await createIntegration(t);
    const direct = await t.app.request('https://console.example/api/console/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey: integration.apiKey }),
    });
    expect(direct.headers.get('set-cookie')).toMatch(/; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200; Secure$/);
    const proxied = await login(t, integration.apiKey, { 'x-forwarded-proto': 'https' });
    expect(proxied.setCookie).toMatch(/; Secure$/);
  });

  it('refuses wrong keys with a clear 401, bad bodies with 400, foreign origins with 403', async () => {
    const integration = await createIntegration(t);
    const session = await createSession(t, integration.apiKey);
    const wrong = await login(t, `sa_live_${'A'.repeat(43)}`);
    expect(wrong.res.status).toBe(401);
    expect(wrong.res.body.error.code).toBe('invalid_api_key');
    expect(wrong.res.body.error.message).toMatch(/not valid.*current key/);
    expect(wrong.setCookie).toBe('');
    const notAKey = await login(t, 'hunter2');
    expect(notAKey.res.status).toBe(401);
    expect(notAKey.res.body.error.message).toContain('start with sa_live_');
    const sessionToken = await login(t, session.sessionToken);
    expect(sessionToken.res.status).toBe(401);
    expect(sessionToken.res.body.error.message).toContain('session token');

    expect((await t.call('POST', '/api/console/login', { body: {} })).body.error.code).toBe('validation_failed');
    const malformed = await t.call('POST', '/api/console/login', { body: '{"apiKey":' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('invalid_json');
    expect((await t.call('POST', '/api/console/login', { body: { apiKey: 42 } })).status).toBe(400);

    const foreign = await login(t, integration.apiKey, { origin: 'https://evil.example' });
    expect(foreign.res.status).toBe(403);
    expect(foreign.res.body.error.code).toBe('csrf_check_failed');
    expect(await t.deps.db.selectFrom('console_sessions').selectAll().execute()).toEqual([]);
  });

  it('rate-limits sign-in attempts per client address', async () => {
    const limited = await makeTestApp({ config: { consoleLoginLimit: { max: 3, windowMs: 60_000 } } });
    try {
      const integration = await createIntegration(limited);
      for (let i = 0; i < 3; i++) expect((await login(limited, 'sa_live_wrong')).res.status).toBe(401);
      const blocked = await login(limited, integration.apiKey);
      expect(blocked.res.status).toBe(429);
      expect(blocked.res.body.error.code).toBe('rate_limited');
      expect(Number(blocked.res.headers.get('retry-after'))).toBeGreaterThan(0);
      limited.clock.advance(60_000);
      expect((await login(limited, integration.apiKey)).res.status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('answers 401 console_session_required without a valid cookie', async () => {
    const anonymous = await t.call('GET', '/api/console/me');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('console_session_required');
    for (const cookie of ['sa_console=nonsense', `sa_console=sa_con_${'x'.repeat(43)}`, 'other=1']) {
      expect((await t.call('GET', '/api/console/me', { headers: { cookie } })).body.error.code).toBe('console_session_required');
    }
    const list = await t.call('GET', '/api/widget/sessions', { headers: { cookie: `sa_console=sa_con_${'x'.repeat(43)}` } });
    expect(list.status).toBe(401);
    expect(list.body.error.code).toBe('console_session_required');
    // No cookie and no header: the usual answer of API-key endpoints.
    expect((await t.call('GET', '/api/widget/sessions')).body.error.code).toBe('unauthorized');
  });

  it('the cookie reads API-key endpoints; unsafe requests need the console header and a same origin', async () => {
    const { integration, session } = await startedSession(t);
    const { cookie } = await login(t, integration.apiKey);

    const list = await t.call('GET', '/api/widget/sessions', { headers: cookie });
    expect(list.status).toBe(200);
    expect(list.body.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([session.sessionId]);
    expect((await t.call('GET', `/api/widget/sessions/${session.sessionId}`, { headers: cookie })).status).toBe(200);
    expect((await t.call('GET', '/api/integration', { headers: cookie })).body.id).toBe(integration.id);

    const path = `/api/widget/sessions/${session.sessionId}/messages`;
    const bare = await t.call('POST', path, { headers: cookie, body: { body: 'hello' } });
    expect(bare.status).toBe(403);
    expect(bare.body.error.code).toBe('csrf_check_failed');
    expect(bare.body.error.message).toContain('X-SecureAccess-Console');
    const wrongValue = await t.call('POST', path, { headers: { ...cookie, 'x-secureaccess-console': 'yes' }, body: { body: 'hello' } });
    expect(wrongValue.status).toBe(403);
    const crossSite = await t.call('POST', path, { headers: { ...cookie, ...CSRF, origin: 'https://evil.example' }, body: { body: 'hello' } });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.error.code).toBe('csrf_check_failed');
    const nullOrigin = await t.call('POST', path, { headers: { ...cookie, ...CSRF, origin: 'null' }, body: { body: 'hello' } });
    expect(nullOrigin.status).toBe(403);
    expect(await t.deps.db.selectFrom('messages').selectAll().execute()).toEqual([]);

    const sameOrigin = await t.call('POST', path, { headers: { ...cookie, ...CSRF, origin: 'http://localhost' }, body: { body: 'hello' } });
    expect(sameOrigin.status).toBe(201);
    expect(sameOrigin.body).toMatchObject({ senderRole: 'proctor', body: 'hello' });
    const noOrigin = await t.call('POST', path, { headers: { ...cookie, ...CSRF }, body: { body: 'again' } });
    expect(noOrigin.status).toBe(201);
    // Behind a proxy that reports the public origin.
    const proxied = await t.call('POST', path, {
      headers: { ...cookie, ...CSRF, origin: 'https://proctor.example.edu', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'proctor.example.edu' },
      body: { body: 'proxied' },
    });
    expect(proxied.status).toBe(201);

    // PATCH and DELETE follow the same rule.
    expect((await t.call('PATCH', '/api/integration', { headers: cookie, body: { name: 'Renamed' } })).status).toBe(403);
    expect((await t.call('PATCH', '/api/integration', { headers: { ...cookie, ...CSRF }, body: { name: 'Renamed' } })).body.name).toBe('Renamed');

    // The live stream opens with the cookie (EventSource sends it).
    const stream = await t.app.request(`/api/widget/sessions/${session.sessionId}/events`, { headers: cookie });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await stream.body?.cancel();
  });

  it('a request with both uses the Authorization header', async () => {
    const mine = await createIntegration(t, { name: 'Mine' });
    const other = await createIntegration(t, { name: 'Other' });
    const { cookie } = await login(t, mine.apiKey);
    const asOther = await t.call('GET', '/api/integration', { token: other.apiKey, headers: cookie });
    expect(asOther.body.name).toBe('Other');
    const wrongBearer = await t.call('GET', '/api/integration', { token: 'sa_live_wrong', headers: cookie });
    expect(wrongBearer.status).toBe(401);
    expect(wrongBearer.body.error.code).toBe('invalid_api_key');
    // The header path needs no CSRF header: it is not ambient.
    const session = await createSession(t, mine.apiKey);
    const posted = await t.call('POST', `/api/widget/sessions/${session.sessionId}/messages`, { token: mine.apiKey, headers: cookie, body: { body: 'hi' } });
    expect(posted.status).toBe(201);
  });

  it("keeps another integration's sessions out of reach", async () => {
    const { session } = await startedSession(t);
    const mine = await createIntegration(t, { name: 'Mine' });
    const { cookie } = await login(t, mine.apiKey);
    for (const path of [
      `/api/widget/sessions/${session.sessionId}`,
      `/api/widget/sessions/${session.sessionId}/messages`,
      `/api/widget/sessions/${session.sessionId}/face/enrollment`,
    ]) {
      const res = await t.call('GET', path, { headers: cookie });
      expect(res.status, path).toBe(404);
      expect(res.body.error.code, path).toBe('session_not_found');
    }
    expect((await t.call('GET', '/api/widget/sessions', { headers: cookie })).body.sessions).toEqual([]);
    const stop = await t.call('POST', `/api/widget/sessions/${session.sessionId}/stop`, { headers: { ...cookie, ...CSRF } });
    expect(stop.status).toBe(404);
  });

  it('logout ends the session and clears the cookie', async () => {
    const integration = await createIntegration(t);
    const { cookie } = await login(t, integration.apiKey);
    const out = await t.call('POST', '/api/console/logout', { headers: cookie });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toBe('sa_console=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0');
    expect(await t.deps.db.selectFrom('console_sessions').selectAll().execute()).toEqual([]);
    expect((await t.call('GET', '/api/console/me', { headers: cookie })).status).toBe(401);
    expect((await t.call('GET', '/api/widget/sessions', { headers: cookie })).body.error.code).toBe('console_session_required');
    // Idempotent, and harmless without a cookie.
    expect((await t.call('POST', '/api/console/logout')).status).toBe(204);
  });

  it('signing in again replaces the previous token', async () => {
    const integration = await createIntegration(t);
    const first = await login(t, integration.apiKey);
    const second = await login(t, integration.apiKey, first.cookie);
    expect(second.token).not.toBe(first.token);
    expect((await t.call('GET', '/api/console/me', { headers: first.cookie })).status).toBe(401);
    expect((await t.call('GET', '/api/console/me', { headers: second.cookie })).status).toBe(200);
  });

  it('expires after 12 hours, and expired rows are purged', async () => {
    const integration = await createIntegration(t);
    const { cookie } = await login(t, integration.apiKey);
    t.clock.advance(TWELVE_HOURS - 1);
    expect((await t.call('GET', '/api/widget/sessions', { headers: cookie })).status).toBe(200);
    const second = await login(t, integration.apiKey);
    t.clock.advance(1);
    const expired = await t.call('GET', '/api/widget/sessions', { headers: cookie });
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('console_session_required');
    expect((await t.call('GET', '/api/console/me', { headers: cookie })).status).toBe(401);

    // The second one expires later; the next sign-in purges every expired row, not only its own.
    t.clock.advance(TWELVE_HOURS);
    expect(await t.deps.db.selectFrom('console_sessions').selectAll().execute()).toHaveLength(1);
    await login(t, integration.apiKey);
    const rows = await t.deps.db.selectFrom('console_sessions').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).not.toBe(createHash('sha256').update(second.token).digest('hex'));
  });

  it('rotating the key needs the key itself, and signs every console out', async () => {
    const integration = await createIntegration(t);
    const { cookie } = await login(t, integration.apiKey);
    const viaCookie = await t.call('POST', '/api/integration/rotate-key', { headers: { ...cookie, ...CSRF } });
    expect(viaCookie.status).toBe(403);
    expect(viaCookie.body.error.code).toBe('api_key_required');
    expect((await t.call('GET', '/api/integration', { token: integration.apiKey })).status).toBe(200);

    const rotated = await t.call('POST', '/api/integration/rotate-key', { token: integration.apiKey, headers: cookie });
    expect(rotated.status).toBe(200);
    expect((await t.call('GET', '/api/console/me', { headers: cookie })).status).toBe(401);
    expect((await login(t, integration.apiKey)).res.status).toBe(401);
    expect((await login(t, rotated.body.apiKey)).res.status).toBe(200);
  });

  it('no response the console can read carries a secret', async () => {
    const integration = await createIntegration(t, { name: 'LMS', webhookUrl: 'http://127.0.0.1:9/hook' });
    const session = await createSession(t, integration.apiKey);
    await markEnrolled(t, session.sessionId);
    expect((await t.call('POST', '/api/widget/session/start', { token: session.sessionToken })).status).toBe(200);
    await t.call('POST', '/api/widget/session/violation', {
      token: session.sessionToken,
      body: { id: eventId(), type: 'tab_switch', occurredAt: new Date(t.clock.now()).toISOString() },
    });
    await t.call('POST', '/api/widget/session/messages', { token: session.sessionToken, body: { body: 'hello' } });
    const { cookie, token } = await login(t, integration.apiKey);
    const deliveries = await t.call('GET', '/api/integration/webhook-deliveries', { headers: cookie });
    expect(deliveries.body.deliveries.length).toBeGreaterThan(0);
    const paths = [
      '/api/console/me',
      '/api/integration',
      '/api/integration/webhook-deliveries',
      `/api/integration/webhook-deliveries/${deliveries.body.deliveries[0].id}`,
      '/api/widget/sessions',
      `/api/widget/sessions/${session.sessionId}`,
      `/api/widget/sessions/${session.sessionId}/messages`,
      `/api/widget/sessions/${session.sessionId}/documents`,
      `/api/widget/sessions/${session.sessionId}/recording`,
    ];
    for (const path of paths) {
      const res = await t.call('GET', path, { headers: cookie });
      expect(res.status, path).toBe(200);
      const text = JSON.stringify(res.body);
      for (const secret of [integration.apiKey, integration.webhookSecret, session.sessionToken, token]) expect(text, path).not.toContain(secret);
      // The only trace of a key is the integration's 12-character apiKeyPrefix (`sa_live_` + 4).
      expect(text.replace(/"apiKeyPrefix":"sa_live_[A-Za-z0-9_-]{4}"/g, ''), path).not.toContain('sa_live_');
      for (const marker of ['whsec_', 'sa_sess_', 'sa_con_']) expect(text, path).not.toContain(marker);
    }
  });
});

/** Decides from the first byte of the image: 0x01 → a match, anything else → another person. */
class FakeFaceEngine implements FaceEngine {
  ready() {
    return true;
  }
  async enroll() {
    return { ok: true as const, template: new Uint8Array([1, 2, 3]), quality: { faceSize: 120 } };
  }
  async verify(image: Uint8Array): Promise<FaceVerifyResult> {
    if (image[3] === 0x01) return { facesDetected: 1, match: true, similarity: 0.9, identityScore: 95 };
    if (image[3] === 0x02) return { facesDetected: 2 };
    return { facesDetected: 1, match: false, similarity: 0.1, identityScore: 5 };
  }
}

const jpeg = (marker: number) => new Uint8Array([0xff, 0xd8, 0xff, marker, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]);
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

describe('face images for review', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp({ faceEngine: new FakeFaceEngine() });
  });
  afterEach(async () => t.close());

  it('sniffs JPEG, PNG and WebP from the bytes', () => {
    expect(sniffImageType(jpeg(0xe0))).toBe('image/jpeg');
    expect(sniffImageType(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]))).toBe('image/png');
    expect(sniffImageType(new TextEncoder().encode('RIFF\u0010\u0000\u0000\u0000WEBPVP8 '))).toBe('image/webp');
    expect(sniffImageType(new TextEncoder().encode('<svg onload=alert(1)>'))).toBeNull();
    expect(sniffImageType(new Uint8Array([0xff]))).toBeNull();
  });

  it('serves the enrollment photo and the frames kept for violations, with imageUrl in the results', async () => {
    const integration = await createIntegration(t, { name: 'LMS', webhookUrl: 'http://127.0.0.1:9/hook' });
    const session = await createSession(t, integration.apiKey, { config: { autoStop: false } });
    const token = session.sessionToken;
    const base = `/api/widget/sessions/${session.sessionId}`;

    const none = await t.call('GET', `${base}/face/enrollment`, { token: integration.apiKey });
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe('enrollment_image_not_found');

    const photo = jpeg(0x01);
    expect((await t.call('POST', '/api/widget/session/face-enroll', { token, body: { imageBase64: b64(photo), source: 'webcam' } })).status).toBe(200);
    expect((await t.call('POST', '/api/widget/session/start', { token })).status).toBe(200);
    const verify = (bytes: Uint8Array) => t.call('POST', '/api/widget/session/verify-identity', { token, body: { imageBase64: b64(bytes) } });
    expect((await verify(jpeg(0x01))).body.violation).toBeNull();
    const mismatchFrame = jpeg(0x03);
    const mismatch = await verify(mismatchFrame);
    expect(mismatch.body.violation.type).toBe('identity_mismatch');
    const twoFaces = await verify(jpeg(0x02));
    expect(twoFaces.body.violation.type).toBe('multiple_faces');
    await t.call('POST', '/api/widget/session/violation', { token, body: { id: eventId(), type: 'tab_switch', occurredAt: new Date(t.clock.now()).toISOString() } });

    const enrollment = await t.app.request(`${base}/face/enrollment`, { headers: { authorization: `Bearer ${integration.apiKey}` } });
    expect(enrollment.status).toBe(200);
    expect(enrollment.headers.get('content-type')).toBe('image/jpeg');
    expect(enrollment.headers.get('cache-control')).toBe('private, no-store');
    expect(enrollment.headers.get('x-content-type-options')).toBe('nosniff');
    expect(new Uint8Array(await enrollment.arrayBuffer())).toEqual(photo);

    const detail = await t.call('GET', base, { token: integration.apiKey });
    const byType = Object.fromEntries(detail.body.violations.map((v: { type: string }) => [v.type, v]));
    const mismatchId = mismatch.body.violation.id;
    expect(byType.identity_mismatch.imageUrl).toBe(`${base}/violations/${mismatchId}/image`);
    expect(byType.multiple_faces.imageUrl).toBe(`${base}/violations/${twoFaces.body.violation.id}/image`);
    expect(byType.tab_switch.imageUrl).toBeNull();

    // The console reaches the same images with its cookie.
    const { cookie } = await login(t, integration.apiKey);
    const frame = await t.app.request(byType.identity_mismatch.imageUrl, { headers: cookie });
    expect(frame.status).toBe(200);
    expect(frame.headers.get('content-type')).toBe('image/jpeg');
    expect(new Uint8Array(await frame.arrayBuffer())).toEqual(mismatchFrame);
    const tab = await t.call('GET', `${base}/violations/${byType.tab_switch.id}/image`, { headers: cookie });
    expect(tab.status).toBe(404);
    expect(tab.body.error.code).toBe('violation_image_not_found');
    for (const id of ['vio_unknown', '..%2F..%2Fface%2Ftemplate', 'x'.repeat(300)]) {
      const res = await t.call('GET', `${base}/violations/${id}/image`, { headers: cookie });
      expect(res.status, id).toBe(404);
    }

    // Webhooks keep the plain Violation: no imageUrl appears in their payloads.
    const outbox = await t.deps.db.selectFrom('webhook_outbox').select(['event_type', 'payload']).where('event_type', '=', 'violation.detected').execute();
    expect(outbox.length).toBe(3);
    for (const row of outbox) expect(JSON.parse(row.payload).violation).not.toHaveProperty('imageUrl');

    // Erasure removes the images; the audit row says so.
    const erased = await t.call('DELETE', base, { token: integration.apiKey });
    expect(erased.body.violations.every((v: { imageUrl: unknown }) => v.imageUrl === null)).toBe(true);
    expect((await t.call('GET', `${base}/face/enrollment`, { headers: cookie })).status).toBe(404);
    expect((await t.call('GET', `${base}/violations/${mismatchId}/image`, { headers: cookie })).status).toBe(404);
  });

  it('sends unknown kinds of stored bytes as octet-stream, and PNG/WebP with their types', async () => {
    const integration = await createIntegration(t);
    const session = await createSession(t, integration.apiKey);
    const path = `/api/widget/sessions/${session.sessionId}/face/enrollment`;
    const keys = faceBlobKeys(session.sessionId);
    const get = () => t.app.request(path, { headers: { authorization: `Bearer ${integration.apiKey}` } });
    await t.deps.blobs.put(keys.enrollmentImage, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1]), 'application/octet-stream');
    expect((await get()).headers.get('content-type')).toBe('image/png');
    await t.deps.blobs.put(keys.enrollmentImage, new TextEncoder().encode('RIFF\u0004\u0000\u0000\u0000WEBP'), 'application/octet-stream');
    expect((await get()).headers.get('content-type')).toBe('image/webp');
    await t.deps.blobs.put(keys.enrollmentImage, new TextEncoder().encode('<html><script>alert(1)</script>'), 'application/octet-stream');
    const odd = await get();
    expect(odd.headers.get('content-type')).toBe('application/octet-stream');
    expect(odd.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('console pages', () => {
  let t: TestApp;
  let dir: string;
  beforeEach(async () => {
    t = await makeTestApp();
    dir = mkdtempSync(join(tmpdir(), 'sa-console-'));
  });
  afterEach(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('redirects to sign-in without a cookie, with the page to come back to', async () => {
    const root = await t.app.request('/console');
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/sessions');
    for (const [path, next] of [
      ['/console/sessions', '%2Fconsole%2Fsessions'],
      ['/console/sessions/ses_abc?tab=timeline', '%2Fconsole%2Fsessions%2Fses_abc%3Ftab%3Dtimeline'],
      ['/console/webhooks', '%2Fconsole%2Fwebhooks'],
    ] as const) {
      const res = await t.app.request(path, { headers: { cookie: 'sa_console=sa_con_expired' } });
      expect(res.status, path).toBe(302);
      expect(res.headers.get('location'), path).toBe(`/console/signin?next=${next}`);
    }
  });

  it('serves the shell under the console CSP: sign-in always, other pages with a valid cookie', async () => {
    const expectShell = async (res: Response) => {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const html = await res.text();
      expect(html).toBe(CONSOLE_SHELL);
      expect(html).toContain('<script type="module" src="/console/assets/console.js"></script>');
    };
    await expectShell(await t.app.request('/console/signin'));
    const integration = await createIntegration(t);
    const { cookie } = await login(t, integration.apiKey);
    for (const path of ['/console/sessions', '/console/sessions/ses_abc', '/console/webhooks']) {
      await expectShell(await t.app.request(path, { headers: cookie }));
    }
  });

  it('answers 503 console_not_built without a build, and serves the built files', async () => {
    const missing = createApp({ ...t.deps, consoleAssets: undefined }).app;
    const none = await missing.request('/console/assets/console.js');
    expect(none.status).toBe(503);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('console_not_built');

    const empty = createApp({ ...t.deps, consoleAssets: new FsStaticAssets(dir) }).app;
    expect((await empty.request('/console/assets/console.css')).status).toBe(503);

    writeFileSync(join(dir, 'console.js'), 'console.log("console");\n');
    writeFileSync(join(dir, 'console.css'), 'body{margin:0}');
    writeFileSync(join(dir, '.secret'), 'x');
    const built = createApp({ ...t.deps, consoleAssets: new FsStaticAssets(dir) }).app;
    const script = await built.request('/console/assets/console.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await script.text()).toBe('console.log("console");\n');
    const css = await built.request('/console/assets/console.css');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const etag = css.headers.get('etag')!;
    expect((await built.request('/console/assets/console.css', { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await built.request('/console/assets/console.js.map')).status).toBe(404);
    expect((await built.request('/console/assets/.secret')).status).toBe(404);
    expect((await built.request('/console/assets/..%2F..%2Fpackage.json')).status).toBe(404);
  });

  it('keeps the pages out of the OpenAPI document, but documents the console API', async () => {
    const doc = (await (await t.app.request('/api/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/console'))).toEqual([]);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/console/login', '/api/console/logout', '/api/console/me']));
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/widget/sessions/{id}/face/enrollment', '/api/widget/sessions/{id}/violations/{violationId}/image']),
    );
  });
});
