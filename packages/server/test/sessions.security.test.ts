import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIntegration, createSession, makeTestApp, startedSession, type TestApp } from './helpers.ts';

describe('session security', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => t.close());

  it('refuses missing and malformed credentials', async () => {
    const variants: Record<string, string>[] = [{}, { authorization: 'Basic abc' }, { authorization: 'Bearer' }, { authorization: 'Bearer a b' }];
    for (const headers of variants) {
      const widget = await t.call('GET', '/api/widget/session', { headers });
      expect(widget.status, JSON.stringify(headers)).toBe(401);
      expect(widget.body.error.code).toBe('unauthorized');
      const lms = await t.call('GET', '/api/widget/sessions', { headers });
      expect(lms.status).toBe(401);
    }
    const fake = await t.call('GET', '/api/widget/session', { token: 'sa_sess_doesnotexist' });
    expect(fake.body.error.code).toBe('invalid_session_token');
    const fakeKey = await t.call('GET', '/api/widget/sessions', { token: 'sa_live_doesnotexist' });
    expect(fakeKey.body.error.code).toBe('invalid_api_key');
  });

  it('never lets a session token and an API key stand in for each other', async () => {
    const { integration, session } = await startedSession(t);
    const tokenOnLms = await t.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: session.sessionToken });
    expect(tokenOnLms.status).toBe(401);
    expect(tokenOnLms.body.error.code).toBe('invalid_api_key');
    const tokenCreates = await t.call('POST', '/api/widget/sessions', { token: session.sessionToken, body: { externalUserId: 'x' } });
    expect(tokenCreates.status).toBe(401);
    const keyOnWidget = await t.call('GET', '/api/widget/session', { token: integration.apiKey });
    expect(keyOnWidget.status).toBe(401);
    expect(keyOnWidget.body.error.code).toBe('invalid_session_token');
    const keyStops = await t.call('POST', '/api/widget/session/stop', { token: integration.apiKey });
    expect(keyStops.status).toBe(401);
  });

  it('scopes a session token to its own session only', async () => {
    const integration = await createIntegration(t);
    const a = await createSession(t, integration.apiKey, { externalUserId: 'a', userName: 'Alice' });
    const b = await createSession(t, integration.apiKey, { externalUserId: 'b', userName: 'Bob' });
    const meA = await t.call('GET', '/api/widget/session', { token: a.sessionToken });
    const meB = await t.call('GET', '/api/widget/session', { token: b.sessionToken });
    expect(meA.body).toMatchObject({ sessionId: a.sessionId, userName: 'Alice' });
    expect(meB.body).toMatchObject({ sessionId: b.sessionId, userName: 'Bob' });
    // The API-key routes with a session id are not reachable with a token, whatever the id.
    const peek = await t.call('GET', `/api/widget/sessions/${b.sessionId}`, { token: a.sessionToken });
    expect(peek.status).toBe(401);
  });

  it("hides another integration's sessions as not found", async () => {
    const mine = await createIntegration(t, { name: 'Mine' });
    const theirs = await createIntegration(t, { name: 'Theirs' });
    const session = await createSession(t, theirs.apiKey);
    for (const [method, path] of [
      ['GET', `/api/widget/sessions/${session.sessionId}`],
      ['POST', `/api/widget/sessions/${session.sessionId}/stop`],
      ['DELETE', `/api/widget/sessions/${session.sessionId}`],
    ] as const) {
      const res = await t.call(method, path, { token: mine.apiKey });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe('session_not_found');
    }
    const unknown = await t.call('GET', '/api/widget/sessions/ses_AAAAAAAAAAAAAAAAAAAA', { token: mine.apiKey });
    expect(unknown.status).toBe(404);
    const pathLike = await t.call('GET', '/api/widget/sessions/..%2F..%2Fetc', { token: mine.apiKey });
    expect(pathLike.status).toBe(404);
    const list = await t.call('GET', '/api/widget/sessions', { token: mine.apiKey });
    expect(list.body.sessions).toEqual([]);
  });

  it('refuses an expired session token', async () => {
    const integration = await createIntegration(t);
    const session = await createSession(t, integration.apiKey);
    t.clock.advance(24 * 3600_000);
    const res = await t.call('GET', '/api/widget/session', { token: session.sessionToken });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('session_token_expired');
    const detail = await t.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(detail.body.status).toBe('expired');
  });

  it('answers CORS preflights for widget endpoints and restricts origins when configured', async () => {
    const pre = await t.app.request('/api/widget/session/violation', {
      method: 'OPTIONS',
      headers: { origin: 'https://lms.example.edu', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://lms.example.edu');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/i);
    expect(pre.headers.get('access-control-allow-methods')).toMatch(/POST/);

    const open = await createIntegration(t, { name: 'Open' });
    const s1 = await createSession(t, open.apiKey);
    const anyOrigin = await t.app.request('/api/widget/session', { headers: { authorization: `Bearer ${s1.sessionToken}`, origin: 'https://anything.example' } });
    expect(anyOrigin.status).toBe(200);
    expect(anyOrigin.headers.get('access-control-allow-origin')).toBe('https://anything.example');

    const closed = await createIntegration(t, { name: 'Closed', allowedOrigins: ['https://lms.example.edu'] });
    const s2 = await createSession(t, closed.apiKey);
    const allowed = await t.app.request('/api/widget/session', { headers: { authorization: `Bearer ${s2.sessionToken}`, origin: 'https://lms.example.edu' } });
    expect(allowed.status).toBe(200);
    const refused = await t.app.request('/api/widget/session', { headers: { authorization: `Bearer ${s2.sessionToken}`, origin: 'https://evil.example' } });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe('origin_not_allowed');
    // Errors carry CORS headers too, so the widget can read them.
    const unauth = await t.app.request('/api/widget/session', { headers: { origin: 'https://lms.example.edu' } });
    expect(unauth.status).toBe(401);
    expect(unauth.headers.get('access-control-allow-origin')).toBe('https://lms.example.edu');
    // LMS endpoints are server-to-server: no CORS headers.
    const lms = await t.app.request('/api/widget/sessions', { headers: { authorization: `Bearer ${open.apiKey}`, origin: 'https://lms.example.edu' } });
    expect(lms.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers unknown routes with a JSON 404 and bodies over the limit with 413', async () => {
    const res = await t.call('GET', '/api/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    const big = await t.call('POST', '/api/integrations', { body: { name: 'x'.repeat(300 * 1024) } });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
  });

  it('answers face endpoints with 503 while no face engine is configured', async () => {
    const integration = await createIntegration(t);
    const session = await createSession(t, integration.apiKey);
    const image = Buffer.from('\xff\xd8\xff\xe0 fake jpeg bytes', 'latin1').toString('base64');
    const enroll = await t.call('POST', '/api/widget/session/face-enroll', { token: session.sessionToken, body: { imageBase64: image, source: 'webcam' } });
    expect(enroll.status).toBe(503);
    expect(enroll.body.error.code).toBe('face_engine_unavailable');
    const garbage = await t.call('POST', '/api/widget/session/face-enroll', { token: session.sessionToken, body: { imageBase64: '***not base64***' } });
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.code).toBe('invalid_image');
    const me = await t.call('GET', '/api/widget/session', { token: session.sessionToken });
    expect(me.body.enrollment.status).toBe('none');
  });
});
