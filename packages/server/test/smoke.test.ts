import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIntegration, makeTestApp, startedSession, type TestApp } from './helpers.ts';

describe('smoke', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => t.close());

  it('health answers ok', async () => {
    const res = await t.call('GET', '/api/health');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
  });

  it('runs a session from creation to completion', async () => {
    const { session } = await startedSession(t);
    const me = await t.call('GET', '/api/widget/session', { token: session.sessionToken });
    expect(me.body.status).toBe('in_progress');
    const done = await t.call('POST', '/api/widget/session/complete', { token: session.sessionToken });
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('completed');
    const integration = await createIntegration(t);
    const other = await t.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(other.status).toBe(404);
  });
});
