import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebhookDispatcher } from '../src/core/webhooks/dispatcher.ts';
import { createIntegration, createSession, eventId, makeTestApp, markEnrolled, TestClock, type TestApp } from './helpers.ts';
import { WebhookReceiver } from './webhook-receiver.ts';

const DELIVERIES = '/api/integration/webhook-deliveries';

/** The test clock starts at the real time: receivers check `webhook-timestamp` against their own clock. */
async function setup(options: Parameters<typeof makeTestApp>[0] = {}) {
  const t = await makeTestApp({ clock: new TestClock(Date.now()), ...options });
  const receiver = await WebhookReceiver.start();
  return { t, receiver };
}

async function startSession(t: TestApp, apiKey: string, body: Record<string, unknown> = {}) {
  const session = await createSession(t, apiKey, body);
  await markEnrolled(t, session.sessionId);
  const res = await t.call('POST', '/api/widget/session/start', { token: session.sessionToken });
  expect(res.status).toBe(200);
  return session;
}

function reportTabSwitch(t: TestApp, sessionToken: string) {
  return t.call('POST', '/api/widget/session/violation', {
    token: sessionToken,
    body: { id: eventId(), type: 'tab_switch', occurredAt: new Date(t.clock.now()).toISOString() },
  });
}

describe('webhook delivery', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  beforeEach(async () => {
    ({ t, receiver } = await setup({ config: { webhookRetryScheduleMs: [1_000, 2_000] } }));
  });
  afterEach(async () => {
    await t.close();
    await receiver.close();
  });

  it('sends session.started, session.completed and score.submitted, signed, with the seed payload', async () => {
    const integration = await createIntegration(t, { name: 'LMS', webhookUrl: receiver.url() });
    const session = await startSession(t, integration.apiKey);
    expect((await t.call('POST', '/api/widget/session/complete', { token: session.sessionToken })).status).toBe(200);

    const stats = await t.deps.dispatcher.runOnce();
    expect(stats).toEqual({ attempted: 3, delivered: 3, failed: 0 });
    expect(receiver.received.map((r) => JSON.parse(r.body).type)).toEqual(['session.started', 'session.completed', 'score.submitted']);

    const webhook = new Webhook(integration.webhookSecret);
    for (const request of receiver.received) {
      const payload = webhook.verify(request.body, request.headers) as Record<string, unknown>;
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['webhook-id']).toBe(payload.id);
      expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(payload).toMatchObject({
        integrationId: integration.id,
        sessionId: session.sessionId,
        externalUserId: 'student-123',
        externalAssessmentId: 'exam-456',
        authScore: expect.any(Number),
      });
      expect(String(payload.id)).toMatch(/^evt_/);
      expect(new Date(String(payload.timestamp)).toISOString()).toBe(payload.timestamp);
    }
    const completed = JSON.parse(receiver.received[1]!.body);
    expect(completed.scores.overall).toBe(completed.authScore);
    expect(JSON.parse(receiver.received[2]!.body)).toMatchObject({ final: true, status: 'completed' });

    // A body changed in transit, or a signature made with another secret, does not verify.
    const first = receiver.received[0]!;
    const tampered = first.body.replace('"authScore":', '"authScore":1');
    expect(() => webhook.verify(tampered, first.headers)).toThrow(WebhookVerificationError);
    const other = await createIntegration(t, { name: 'Other' });
    expect(() => new Webhook(other.webhookSecret).verify(first.body, first.headers)).toThrow(WebhookVerificationError);

    const log = await t.call('GET', DELIVERIES, { token: integration.apiKey });
    expect(log.status).toBe(200);
    expect(log.body.deliveries.map((d: { status: string }) => d.status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(log.body.deliveries[0]).toMatchObject({ eventType: 'score.submitted', attempts: 1, url: receiver.url(), lastStatusCode: 200 });
    expect(log.body.deliveries[0].attemptLog).toEqual([{ attempt: 1, at: expect.any(String), statusCode: 200, error: null, durationMs: expect.any(Number) }]);
  });

  it('delivers a backlog larger than a batch without waiting for the poll interval, each session in order', async () => {
    const integration = await createIntegration(t, { name: 'LMS', webhookUrl: receiver.url() });
    const sessions = [];
    for (let i = 0; i < 3; i++) {
      const session = await startSession(t, integration.apiKey, { externalUserId: `stu-${i}`, config: { autoStop: false } });
      for (let v = 0; v < 12; v++) expect((await reportTabSwitch(t, session.sessionToken)).status).toBe(201);
      sessions.push(session);
    }
    // 39 events, batches of 10: with a one-minute poll interval, only batches that follow each other at
    // once deliver them all within the test's time.
    const dispatcher = new WebhookDispatcher(t.deps, { pollIntervalMs: 60_000, batchSize: 10, concurrency: 4 });
    dispatcher.start();
    try {
      await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBe(39);
    } finally {
      await dispatcher.stop();
    }
    for (const session of sessions) {
      const own = receiver.payloads().filter((p) => p.sessionId === session.sessionId);
      expect(own.map((p) => p.type)).toEqual(['session.started', ...Array(12).fill('violation.detected')]);
      // In the order they happened: the running count goes 1, 2, … 12.
      expect(own.slice(1).map((p) => (p.violationCounts as { medium: number }).medium)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    }
    const log = await t.call('GET', `${DELIVERIES}?status=pending`, { token: integration.apiKey });
    expect(log.body.deliveries).toEqual([]);
  });

  it('announces violations, then the auto-stop, in order', async () => {
    const integration = await createIntegration(t, { name: 'LMS', webhookUrl: receiver.url() });
    const session = await startSession(t, integration.apiKey, { config: { autoStop: { medium: 2 } } });
    expect((await reportTabSwitch(t, session.sessionToken)).body.autoStopped).toBe(false);
    const second = await reportTabSwitch(t, session.sessionToken);
    expect(second.body).toMatchObject({ autoStopped: true, status: 'stopped', stopReason: 'auto:medium' });

    await t.deps.dispatcher.runOnce();
    const payloads = receiver.payloads();
    expect(payloads.map((p) => p.type)).toEqual([
      'session.started',
      'violation.detected',
      'violation.detected',
      'session.stopped',
      'score.submitted',
    ]);
    expect(payloads[1]).toMatchObject({ violation: { type: 'tab_switch', severity: 'medium' }, violationCounts: { medium: 1 } });
    expect(payloads[2]).toMatchObject({ violationCounts: { medium: 2 } });
    expect(payloads[3]).toMatchObject({ stopReason: 'auto:medium', status: 'stopped', sessionId: session.sessionId });
    expect(payloads[4]).toMatchObject({ status: 'stopped', final: true });
  });

  it('retries a failed attempt with the same webhook-id, and gives up when the schedule is exhausted', async () => {
    const integration = await createIntegration(t, { name: 'LMS', webhookUrl: receiver.url() });
    receiver.responses = [500, 200];
    await startSession(t, integration.apiKey);

    expect(await t.deps.dispatcher.runOnce()).toEqual({ attempted: 1, delivered: 0, failed: 1 });
    let [delivery] = (await t.call('GET', DELIVERIES, { token: integration.apiKey })).body.deliveries;
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500: receiver says 500' });
    expect(Date.parse(delivery.nextAttemptAt)).toBe(t.clock.now() + 1_000);

    // Not due yet: nothing is sent.
    expect((await t.deps.dispatcher.runOnce()).attempted).toBe(0);
    t.clock.advance(1_000);
    expect(await t.deps.dispatcher.runOnce()).toEqual({ attempted: 1, delivered: 1, failed: 0 });

    [delivery] = (await t.call('GET', DELIVERIES, { token: integration.apiKey })).body.deliveries;
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
    expect(delivery.attemptLog.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 200]);
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([delivery.id, delivery.id]);
    const webhook = new Webhook(integration.webhookSecret);
    for (const r of receiver.received) expect(() => webhook.verify(r.body, r.headers)).not.toThrow();

    // A receiver that keeps failing: 1 attempt + 2 retries, then `failed`.
    receiver.defaultStatus = 503;
    const failing = await startSession(t, integration.apiKey);
    await t.deps.dispatcher.runOnce();
    t.clock.advance(1_000);
    await t.deps.dispatcher.runOnce();
    t.clock.advance(2_000);
    expect(await t.deps.dispatcher.runOnce()).toEqual({ attempted: 1, delivered: 0, failed: 1 });
    t.clock.advance(24 * 3600_000);
    expect((await t.deps.dispatcher.runOnce()).attempted).toBe(0);
    const failed = await t.call('GET', `${DELIVERIES}?status=failed&sessionId=${failing.sessionId}`, { token: integration.apiKey });
    expect(failed.body.deliveries).toHaveLength(1);
    expect(failed.body.deliveries[0]).toMatchObject({ status: 'failed', attempts: 3, nextAttemptAt: null, lastStatusCode: 503 });
    expect(failed.body.deliveries[0].attemptLog).toHaveLength(3);
  });

  it('redelivers with the same id, restarts the retry schedule, and is scoped to the integration', async () => {
    const integration = await createIntegration(t, { name: 'LMS', webhookUrl: receiver.url() });
    const other = await createIntegration(t, { name: 'Other LMS', webhookUrl: receiver.url() });
    await startSession(t, integration.apiKey);
    await t.deps.dispatcher.runOnce();
    const [delivered] = (await t.call('GET', DELIVERIES, { token: integration.apiKey })).body.deliveries;
    expect(delivered.status).toBe('delivered');

    expect((await t.call('POST', `${DELIVERIES}/${delivered.id}/redeliver`, { token: other.apiKey })).body.error.code).toBe('webhook_delivery_not_found');
    for (const id of ['evt_doesnotexist000000000000', '..%2F..%2Fintegrations', 'evt_%00']) {
      const res = await t.call('POST', `${DELIVERIES}/${id}/redeliver`, { token: integration.apiKey });
      expect([res.status, res.body.error.code]).toEqual([404, 'webhook_delivery_not_found']);
    }
    expect((await t.call('GET', DELIVERIES, { token: other.apiKey })).body.deliveries).toEqual([]);
    expect((await t.call('POST', `${DELIVERIES}/${delivered.id}/redeliver`)).status).toBe(401);

    const res = await t.call('POST', `${DELIVERIES}/${delivered.id}/redeliver`, { token: integration.apiKey });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ id: delivered.id, status: 'pending', attempts: 1, nextAttemptAt: new Date(t.clock.now()).toISOString() });

    // The redelivery fails once: it is retried on the schedule (from the start), not marked failed.
    receiver.responses = [500];
    await t.deps.dispatcher.runOnce();
    let current = (await t.call('GET', `${DELIVERIES}/${delivered.id}`, { token: integration.apiKey })).body;
    expect(current).toMatchObject({ status: 'pending', attempts: 2, lastStatusCode: 500 });
    expect(Date.parse(current.nextAttemptAt)).toBe(t.clock.now() + 1_000);
    t.clock.advance(1_000);
    await t.deps.dispatcher.runOnce();
    current = (await t.call('GET', `${DELIVERIES}/${delivered.id}`, { token: integration.apiKey })).body;
    expect(current).toMatchObject({ status: 'delivered', attempts: 3 });
    expect(current.attemptLog.map((a: { attempt: number; statusCode: number }) => [a.attempt, a.statusCode])).toEqual([
      [1, 200],
      [2, 500],
      [3, 200],
    ]);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([delivered.id]));
    expect(receiver.received).toHaveLength(3);

    // Without a webhook URL there is nowhere to redeliver to.
    await t.call('PATCH', '/api/integration', { token: integration.apiKey, body: { webhookUrl: null } });
    const nowhere = await t.call('POST', `${DELIVERIES}/${delivered.id}/redeliver`, { token: integration.apiKey });
    expect([nowhere.status, nowhere.body.error.code]).toEqual([409, 'webhook_url_not_set']);
  });

  it('answers 409 while an attempt is in flight', async () => {
    const integration = await createIntegration(t, { name: 'LMS', webhookUrl: receiver.url() });
    await startSession(t, integration.apiKey);
    const { arrived, release } = receiver.hold();
    const run = t.deps.dispatcher.runOnce();
    await arrived;
    const [inFlight] = (await t.call('GET', DELIVERIES, { token: integration.apiKey })).body.deliveries;
    const res = await t.call('POST', `${DELIVERIES}/${inFlight.id}/redeliver`, { token: integration.apiKey });
    expect([res.status, res.body.error.code]).toEqual([409, 'webhook_delivery_in_flight']);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    release();
    expect(await run).toEqual({ attempted: 1, delivered: 1, failed: 0 });
    expect((await t.call('POST', `${DELIVERIES}/${inFlight.id}/redeliver`, { token: integration.apiKey })).status).toBe(202);
  });

  it('never lets a second worker send a row that is still waiting behind a slow receiver', async () => {
    const integration = await createIntegration(t, { name: 'LMS', webhookUrl: receiver.url() });
    const first = await startSession(t, integration.apiKey);
    await t.call('POST', '/api/widget/session/complete', { token: first.sessionToken });
    const timeoutMs = t.deps.config.webhookTimeoutMs;
    const otherWorker = new WebhookDispatcher(t.deps);

    const slowFirst = receiver.hold();
    const run = t.deps.dispatcher.runOnce();
    await slowFirst.arrived;
    // The first request takes almost the whole timeout; the second then takes a while too.
    t.clock.advance(timeoutMs - 1);
    const slowSecond = receiver.hold();
    slowFirst.release();
    await slowSecond.arrived;
    t.clock.advance(5_001);
    expect(await otherWorker.runOnce()).toEqual({ attempted: 0, delivered: 0, failed: 0 });
    slowSecond.release();
    expect(await run).toEqual({ attempted: 3, delivered: 3, failed: 0 });
    expect(receiver.received.map((r) => JSON.parse(r.body).type)).toEqual(['session.started', 'session.completed', 'score.submitted']);
  });

  it("keeps only the start of a receiver's error body, without reading an endless one", async () => {
    // A receiver that answers 500 and then streams without end, until the client goes away.
    const endless = createServer((req, res) => {
      req.resume();
      res.writeHead(500, { 'content-type': 'text/plain' });
      const chunk = 'x'.repeat(16 * 1024);
      let open = true;
      res.on('close', () => (open = false));
      const pump = () => {
        while (open && res.write(chunk));
        if (open) res.once('drain', pump);
      };
      pump();
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(endless.address() as AddressInfo).port}/hook`;
      const integration = await createIntegration(t, { name: 'LMS', webhookUrl: url });
      await startSession(t, integration.apiKey);
      const started = Date.now();
      expect(await t.deps.dispatcher.runOnce()).toEqual({ attempted: 1, delivered: 0, failed: 1 });
      expect(Date.now() - started).toBeLessThan(t.deps.config.webhookTimeoutMs);
      const [delivery] = (await t.call('GET', DELIVERIES, { token: integration.apiKey })).body.deliveries;
      expect(delivery).toMatchObject({ status: 'pending', lastStatusCode: 500, lastError: `HTTP 500: ${'x'.repeat(300)}` });
    } finally {
      endless.closeAllConnections();
      await new Promise<void>((resolve) => endless.close(() => resolve()));
    }
  });

  it('pages the delivery log newest first, and filters it', async () => {
    const integration = await createIntegration(t, { name: 'LMS', webhookUrl: receiver.url() });
    const first = await startSession(t, integration.apiKey);
    await reportTabSwitch(t, first.sessionToken);
    await reportTabSwitch(t, first.sessionToken);
    await t.call('POST', '/api/widget/session/complete', { token: first.sessionToken });
    const second = await startSession(t, integration.apiKey);
    await t.deps.dispatcher.runOnce();
    await startSession(t, integration.apiKey); // one more, left pending

    const seen: { id: string; eventType: string; sessionId: string }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=3&cursor=${encodeURIComponent(cursor)}` : '?limit=3';
      const page = await t.call('GET', `${DELIVERIES}${query}`, { token: integration.apiKey });
      expect(page.status).toBe(200);
      expect(page.body.deliveries.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.deliveries);
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(7);
    expect(new Set(seen.map((d) => d.id)).size).toBe(7);
    const all = await t.call('GET', `${DELIVERIES}?limit=200`, { token: integration.apiKey });
    expect(all.body.deliveries.map((d: { id: string }) => d.id)).toEqual(seen.map((d) => d.id));
    expect(all.body.nextCursor).toBeNull();
    // Newest first: each session's events in reverse order of emission, the last session's first.
    expect(seen.filter((d) => d.sessionId === first.sessionId).map((d) => d.eventType)).toEqual([
      'score.submitted',
      'session.completed',
      'violation.detected',
      'violation.detected',
      'session.started',
    ]);

    const pending = await t.call('GET', `${DELIVERIES}?status=pending`, { token: integration.apiKey });
    expect(pending.body.deliveries.map((d: { eventType: string; status: string }) => [d.eventType, d.status])).toEqual([['session.started', 'pending']]);
    const bySession = await t.call('GET', `${DELIVERIES}?sessionId=${second.sessionId}`, { token: integration.apiKey });
    expect(bySession.body.deliveries.map((d: { sessionId: string }) => d.sessionId)).toEqual([second.sessionId]);

    expect((await t.call('GET', `${DELIVERIES}?cursor=not-a-cursor`, { token: integration.apiKey })).body.error.code).toBe('invalid_cursor');
    expect((await t.call('GET', `${DELIVERIES}?limit=0`, { token: integration.apiKey })).body.error.code).toBe('validation_failed');
    expect((await t.call('GET', `${DELIVERIES}?status=lost`, { token: integration.apiKey })).status).toBe(400);
    expect((await t.call('GET', DELIVERIES)).status).toBe(401);
  });
});

describe('webhook SSRF guard', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  beforeEach(async () => {
    ({ t, receiver } = await setup({ allowPrivateUrls: false }));
  });
  afterEach(async () => {
    await t.close();
    await receiver.close();
  });

  const refused = ['http://127.0.0.1:1/x', 'http://169.254.169.254/latest', 'http://[::1]/', 'http://localhost/', 'http://10.0.0.1/hook'];

  it.each(refused)('refuses %s as a webhook URL on create and update', async (url) => {
    const created = await t.call('POST', '/api/integrations', { body: { name: 'LMS', webhookUrl: url } });
    expect([created.status, created.body.error?.code]).toEqual([400, 'webhook_url_not_allowed']);

    const integration = await createIntegration(t, { name: 'LMS' });
    const patched = await t.call('PATCH', '/api/integration', { token: integration.apiKey, body: { webhookUrl: url } });
    expect([patched.status, patched.body.error?.code]).toEqual([400, 'webhook_url_not_allowed']);
    const after = await t.call('GET', '/api/integration', { token: integration.apiKey });
    expect(after.body.webhookUrl).toBeNull();
  });

  it('refuses at delivery time a host that resolves to loopback, without sending anything', async () => {
    const integration = await createIntegration(t, { name: 'LMS' });
    // The URL got past registration (e.g. its DNS changed since): the dispatcher checks again.
    const url = `http://localhost:${receiver.port}/hook`;
    await t.deps.db.updateTable('integrations').set({ webhook_url: url }).where('id', '=', integration.id).execute();
    await startSession(t, integration.apiKey);

    expect(await t.deps.dispatcher.runOnce()).toEqual({ attempted: 1, delivered: 0, failed: 1 });
    const [delivery] = (await t.call('GET', DELIVERIES, { token: integration.apiKey })).body.deliveries;
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null, url });
    expect(delivery.lastError).toMatch(/^Refused: .*non-public address/);
    expect(delivery.attemptLog[0]).toMatchObject({ statusCode: null, error: delivery.lastError });
    expect(receiver.received).toEqual([]);
  });
});
