import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionMutation } from '../src/core/sessions/state.ts';
import { transact } from '../src/core/tx.ts';
import { eventId, makeTestApp, startedSession, type TestApp } from './helpers.ts';

describe('violations and auto-stop', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => t.close());

  const report = (token: string, type: string, extra: Record<string, unknown> = {}) =>
    t.call('POST', '/api/widget/session/violation', {
      token,
      body: { id: eventId(), type, occurredAt: new Date(t.clock.now()).toISOString(), ...extra },
    });

  it('derives category and severity from the type, ignoring a client severity', async () => {
    const { integration, session } = await startedSession(t);
    const res = await report(session.sessionToken, 'tab_switch', { severity: 'low', durationMs: 4200, details: { hiddenFor: 4.2 } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      duplicate: false,
      autoStopped: false,
      status: 'in_progress',
      violation: { type: 'tab_switch', category: 'behavioral', severity: 'medium', source: 'client', durationMs: 4200, details: { hiddenFor: 4.2 } },
      violationCounts: { low: 0, medium: 1, high: 0, critical: 0 },
      scores: { overall: 98.5, identity: 100, presence: 100, behavioral: 95 },
    });
    const detail = await t.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(detail.body.violations).toHaveLength(1);
    expect(detail.body.violations[0].severity).toBe('medium');
  });

  it('refuses unknown and server-decided types, and malformed reports', async () => {
    const { session } = await startedSession(t);
    const unknown = await report(session.sessionToken, 'looked_away');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('unknown_violation_type');
    for (const type of ['identity_mismatch', 'face_absent_brief', 'face_absent_extended', 'multiple_faces']) {
      const res = await report(session.sessionToken, type);
      expect(res.status, type).toBe(400);
      expect(res.body.error.code).toBe('server_decided_violation');
    }
    const noId = await t.call('POST', '/api/widget/session/violation', { token: session.sessionToken, body: { type: 'tab_switch', occurredAt: new Date().toISOString() } });
    expect(noId.status).toBe(400);
    const badId = await report(session.sessionToken, 'tab_switch', { id: '../../x' });
    expect(badId.status).toBe(400);
    const badTime = await report(session.sessionToken, 'tab_switch', { occurredAt: 'yesterday' });
    expect(badTime.status).toBe(400);
    const future = await report(session.sessionToken, 'tab_switch', { occurredAt: new Date(t.clock.now() + 3600_000).toISOString() });
    expect(future.status).toBe(400);
    expect(await t.deps.db.selectFrom('violations').selectAll().execute()).toHaveLength(0);
  });

  it('counts a repeated id once', async () => {
    const { session } = await startedSession(t);
    const id = eventId();
    const first = await report(session.sessionToken, 'copy_paste', { id });
    const again = await report(session.sessionToken, 'copy_paste', { id });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    expect(again.body.violation.id).toBe(first.body.violation.id);
    expect(again.body.violationCounts.medium).toBe(1);
    expect(await t.deps.db.selectFrom('violations').selectAll().execute()).toHaveLength(1);
  });

  it.each([
    ['medium', 'tab_switch', 10],
    ['high', 'camera_lost', 5],
  ])('auto-stops at exactly %s threshold', async (severity, type, threshold) => {
    const { session } = await startedSession(t);
    for (let i = 1; i < threshold; i++) {
      const res = await report(session.sessionToken, type);
      expect(res.body.autoStopped, `violation ${i}`).toBe(false);
      expect(res.body.status).toBe('in_progress');
    }
    const last = await report(session.sessionToken, type);
    expect(last.status).toBe(201);
    expect(last.body).toMatchObject({ autoStopped: true, status: 'stopped', stopReason: `auto:${severity}` });
    expect(last.body.violationCounts[severity]).toBe(threshold);
    const after = await report(session.sessionToken, type);
    expect(after.status).toBe(409);
    const me = await t.call('GET', '/api/widget/session', { token: session.sessionToken });
    expect(me.body).toMatchObject({ status: 'stopped', stopReason: `auto:${severity}` });
  });

  it('auto-stops at the first critical violation (identity_mismatch, server-raised)', async () => {
    const { integration, session } = await startedSession(t);
    const result = await transact(t.deps, async (tx) => {
      const m = await SessionMutation.load(t.deps, tx, { id: integration.id, webhook_url: null }, session.sessionId);
      const recorded = await m!.recordViolation({ clientId: 'verify-1', type: 'identity_mismatch', source: 'server', occurredAt: t.clock.now() });
      await m!.save();
      return { recorded, autoStopped: m!.autoStopped };
    });
    expect(result.autoStopped).toBe(true);
    expect(result.recorded.violation).toMatchObject({ category: 'identity', severity: 'critical' });
    const me = await t.call('GET', '/api/widget/session', { token: session.sessionToken });
    expect(me.body).toMatchObject({ status: 'stopped', stopReason: 'auto:critical', violationCounts: { critical: 1 } });
  });

  it('follows per-session thresholds, and never stops on low severity or with autoStop false', async () => {
    const custom = await startedSession(t, { config: { autoStop: { medium: 2 } } });
    expect((await report(custom.session.sessionToken, 'fullscreen_exit')).body.autoStopped).toBe(false);
    expect((await report(custom.session.sessionToken, 'fullscreen_exit')).body.stopReason).toBe('auto:medium');

    const off = await startedSession(t, { config: { autoStop: false } });
    for (let i = 0; i < 12; i++) expect((await report(off.session.sessionToken, 'tab_switch')).body.status).toBe('in_progress');

    const low = await startedSession(t);
    let last;
    for (let i = 0; i < 60; i++) last = await report(low.session.sessionToken, 'window_blur');
    expect(last!.body).toMatchObject({ status: 'in_progress', violationCounts: { low: 60 }, scores: { behavioral: 0, overall: 70 } });
  });
});
