import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/core/crypto.ts';
import { createIntegration, makeTestApp, type TestApp } from './helpers.ts';

describe('integrations', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it('creates an integration and shows its secrets only once, stored hashed or sealed', async () => {
    t = await makeTestApp();
    const res = await t.call('POST', '/api/integrations', {
      body: { name: 'My LMS', webhookUrl: 'http://127.0.0.1:9/hook', allowedOrigins: ['https://lms.example.edu'], retentionDays: 7 },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'My LMS', webhookUrl: 'http://127.0.0.1:9/hook', allowedOrigins: ['https://lms.example.edu'], retentionDays: 7 });
    expect(res.body.apiKey).toMatch(/^sa_live_[A-Za-z0-9_-]{43}$/);
    expect(res.body.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(res.body.apiKeyPrefix).toBe(res.body.apiKey.slice(0, 12));

    const row = await t.deps.db.selectFrom('integrations').selectAll().executeTakeFirstOrThrow();
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(res.body.apiKey);
    expect(stored).not.toContain(res.body.webhookSecret.slice(6));
    expect(row.api_key_hash).toBe(await sha256Hex(res.body.apiKey));
    expect(await t.deps.secrets.open(row.webhook_secret_sealed)).toBe(res.body.webhookSecret);

    const me = await t.call('GET', '/api/integration', { token: res.body.apiKey });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(res.body.id);
    expect(me.body.apiKey).toBeUndefined();
    expect(me.body.webhookSecret).toBeUndefined();
    expect(JSON.stringify(me.body)).not.toContain(res.body.apiKey);
  });

  it('refuses invalid bodies with validation_failed and stores nothing', async () => {
    t = await makeTestApp();
    for (const body of [{}, { name: '' }, { name: 'x', webhookUrl: 'ftp://example.com' }, { name: 'x', allowedOrigins: ['https://a.example/path'] }, { name: 'x', retentionDays: 0 }]) {
      const res = await t.call('POST', '/api/integrations', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toMatch(/Invalid request body/);
    }
    const notJson = await t.call('POST', '/api/integrations', { body: '{"name":', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('invalid_json');
    const wrongType = await t.call('POST', '/api/integrations', { body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(wrongType.status).toBe(415);
    const rows = await t.deps.db.selectFrom('integrations').selectAll().execute();
    expect(rows).toHaveLength(0);
  });

  it('rate-limits creation per client address', async () => {
    t = await makeTestApp({ config: { integrationCreateLimit: { max: 3, windowMs: 60_000 } } });
    for (let i = 0; i < 3; i++) expect((await t.call('POST', '/api/integrations', { body: { name: `n${i}` } })).status).toBe(201);
    const limited = await t.call('POST', '/api/integrations', { body: { name: 'n4' } });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    t.clock.advance(61_000);
    expect((await t.call('POST', '/api/integrations', { body: { name: 'n5' } })).status).toBe(201);
  });

  it('requires the admin token when one is configured', async () => {
    t = await makeTestApp({ config: { adminToken: 'admin-secret-123' } });
    const none = await t.call('POST', '/api/integrations', { body: { name: 'x' } });
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('admin_token_required');
    const wrong = await t.call('POST', '/api/integrations', { body: { name: 'x' }, token: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_admin_token');
    const ok = await t.call('POST', '/api/integrations', { body: { name: 'x' }, token: 'admin-secret-123' });
    expect(ok.status).toBe(201);
  });

  it('updates settings and default session config', async () => {
    t = await makeTestApp();
    const integration = await createIntegration(t);
    const res = await t.call('PATCH', '/api/integration', {
      token: integration.apiKey,
      body: { name: 'Renamed', webhookUrl: null, allowedOrigins: ['http://localhost:3000'], retentionDays: 90, defaultSessionConfig: { verifyIntervalSeconds: 30, autoStop: { medium: 3 } } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'Renamed', webhookUrl: null, allowedOrigins: ['http://localhost:3000'], retentionDays: 90 });
    const session = await t.call('POST', '/api/widget/sessions', { token: integration.apiKey, body: { externalUserId: 'u1', config: { requireFullscreen: false } } });
    const detail = await t.call('GET', `/api/widget/sessions/${session.body.sessionId}`, { token: integration.apiKey });
    expect(detail.body.config).toEqual({
      maxDurationMinutes: 120,
      verifyIntervalSeconds: 30,
      faceAbsentBriefSeconds: 3,
      faceAbsentExtendedSeconds: 15,
      requireFullscreen: false,
      autoStop: { medium: 3, high: 5, critical: 1 },
    });
    const bad = await t.call('PATCH', '/api/integration', { token: integration.apiKey, body: { defaultSessionConfig: { verifyIntervalSecs: 30 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
  });

  it('rotates the API key: the old key stops working at once', async () => {
    t = await makeTestApp();
    const integration = await createIntegration(t);
    const res = await t.call('POST', '/api/integration/rotate-key', { token: integration.apiKey });
    expect(res.status).toBe(200);
    expect(res.body.apiKey).toMatch(/^sa_live_/);
    expect(res.body.apiKey).not.toBe(integration.apiKey);
    const old = await t.call('GET', '/api/integration', { token: integration.apiKey });
    expect(old.status).toBe(401);
    expect(old.body.error.code).toBe('invalid_api_key');
    expect((await t.call('GET', '/api/integration', { token: res.body.apiKey })).status).toBe(200);
  });

  it('never logs secrets', async () => {
    t = await makeTestApp();
    const integration = await createIntegration(t);
    await t.call('GET', '/api/integration', { token: integration.apiKey + 'x' });
    const logged = JSON.stringify(t.logger.lines);
    expect(logged).not.toContain(integration.apiKey);
    expect(logged).not.toContain(integration.webhookSecret);
  });
});
