import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIntegration, createSession, makeTestApp, startedSession, type TestApp } from './helpers.ts';

const CONSENT_TEXT = 'Your camera image is recorded during this exam and kept for 30 days. — Ünïcode is fine.';

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

describe('consent', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => t.close());

  it('records the time and the hash of the text once; a repeat answers the first record', async () => {
    const integration = await createIntegration(t);
    const session = await createSession(t, integration.apiKey);
    const before = await t.call('GET', '/api/widget/session', { token: session.sessionToken });
    expect(before.body.consentAt).toBeNull();

    const at = new Date(t.clock.now()).toISOString();
    const first = await t.call('POST', '/api/widget/session/consent', { token: session.sessionToken, body: { text: CONSENT_TEXT } });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ consentAt: at, textSha256: sha256(CONSENT_TEXT) });

    t.clock.advance(60_000);
    const again = await t.call('POST', '/api/widget/session/consent', { token: session.sessionToken, body: { text: 'Another text' } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);

    const widget = await t.call('GET', '/api/widget/session', { token: session.sessionToken });
    expect(widget.body.consentAt).toBe(at);
    const detail = await t.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(detail.body.consentAt).toBe(at);
  });

  it('is possible during the assessment, refused after it (409 session_ended) unless already recorded', async () => {
    const running = await startedSession(t);
    const during = await t.call('POST', '/api/widget/session/consent', { token: running.session.sessionToken, body: { text: CONSENT_TEXT } });
    expect(during.status).toBe(201);
    await t.call('POST', '/api/widget/session/complete', { token: running.session.sessionToken });
    const retry = await t.call('POST', '/api/widget/session/consent', { token: running.session.sessionToken, body: { text: CONSENT_TEXT } });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(during.body);

    const ended = await startedSession(t);
    await t.call('POST', '/api/widget/session/complete', { token: ended.session.sessionToken });
    const late = await t.call('POST', '/api/widget/session/consent', { token: ended.session.sessionToken, body: { text: CONSENT_TEXT } });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('session_ended');
    const detail = await t.call('GET', `/api/widget/sessions/${ended.session.sessionId}`, { token: ended.integration.apiKey });
    expect(detail.body.consentAt).toBeNull();
  });

  it('validates the text (1 to 8000 characters) and the body type', async () => {
    const integration = await createIntegration(t);
    const session = await createSession(t, integration.apiKey);
    for (const body of [{}, { text: '' }, { text: 'x'.repeat(8001) }, { text: 42 }]) {
      const res = await t.call('POST', '/api/widget/session/consent', { token: session.sessionToken, body });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    const form = await t.call('POST', '/api/widget/session/consent', {
      token: session.sessionToken,
      body: 'text=hello',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    const longest = await t.call('POST', '/api/widget/session/consent', { token: session.sessionToken, body: { text: 'x'.repeat(8000) } });
    expect(longest.status).toBe(201);
    const withKey = await t.call('POST', '/api/widget/session/consent', { token: integration.apiKey, body: { text: 'x' } });
    expect(withKey.status).toBe(401);
  });
});
