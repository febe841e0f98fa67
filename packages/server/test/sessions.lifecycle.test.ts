import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIntegration, createSession, eventId, makeTestApp, markEnrolled, startedSession, type TestApp } from './helpers.ts';

describe('session lifecycle', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => t.close());

  it('creates a session with the seed body and resolved default config', async () => {
    const integration = await createIntegration(t);
    const res = await t.call('POST', '/api/widget/sessions', {
      token: integration.apiKey,
      body: {
        externalUserId: 'student-123',
        userName: 'John Doe',
        userEmail: 'john@example.com',
        assessmentTitle: 'Final Exam',
        assessmentType: 'recording',
        config: { maxDurationMinutes: 60 },
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.sessionId).toMatch(/^ses_[A-Za-z0-9]{20}$/);
    expect(res.body.sessionToken).toMatch(/^sa_sess_[A-Za-z0-9_-]{43}$/);
    expect(res.body.status).toBe('created');
    expect(res.body.enrollment).toEqual({ status: 'none' });
    expect(Date.parse(res.body.expiresAt)).toBe(t.clock.now() + 24 * 3600_000);

    const row = await t.deps.db.selectFrom('sessions').selectAll().executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(res.body.sessionToken);

    const me = await t.call('GET', '/api/widget/session', { token: res.body.sessionToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      sessionId: res.body.sessionId,
      status: 'created',
      assessmentTitle: 'Final Exam',
      userName: 'John Doe',
      config: { maxDurationMinutes: 60, verifyIntervalSeconds: 60, faceAbsentBriefSeconds: 3, faceAbsentExtendedSeconds: 15, requireFullscreen: true, autoStop: { medium: 10, high: 5, critical: 1 } },
      enrollment: { status: 'none', source: null, enrolledAt: null },
      violationCounts: { low: 0, medium: 0, high: 0, critical: 0 },
    });
    expect(me.body.userEmail).toBeUndefined();
  });

  it('refuses bad session bodies', async () => {
    const integration = await createIntegration(t);
    const cases: [unknown, string][] = [
      [{}, 'externalUserId'],
      [{ externalUserId: 'u', assessmentType: 'zoom' }, 'assessmentType'],
      [{ externalUserId: 'u', userEmail: 'not-an-email' }, 'userEmail'],
      [{ externalUserId: 'u', config: { maxDurationMinutes: 0 } }, 'config.maxDurationMinutes'],
      [{ externalUserId: 'u', config: { unknownField: 1 } }, 'config'],
      [{ externalUserId: 'u', config: { autoStop: { medium: 0 } } }, 'config.autoStop'],
      [{ externalUserId: 'u', facePhotoUrl: 'file:///etc/passwd' }, 'facePhotoUrl'],
    ];
    for (const [body, path] of cases) {
      const res = await t.call('POST', '/api/widget/sessions', { token: integration.apiKey, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details.map((d: { path: string }) => d.path).join(' ')).toContain(path);
    }
    const brief = await t.call('POST', '/api/widget/sessions', {
      token: integration.apiKey,
      body: { externalUserId: 'u', config: { faceAbsentBriefSeconds: 20, faceAbsentExtendedSeconds: 10 } },
    });
    expect(brief.status).toBe(400);
    expect(await t.deps.db.selectFrom('sessions').selectAll().execute()).toHaveLength(0);
  });

  it('honours Idempotency-Key: same body replays, another body is refused', async () => {
    const integration = await createIntegration(t);
    const body = { externalUserId: 'student-1', assessmentTitle: 'Quiz' };
    const first = await t.call('POST', '/api/widget/sessions', { token: integration.apiKey, body, headers: { 'idempotency-key': 'k-1' } });
    const again = await t.call('POST', '/api/widget/sessions', { token: integration.apiKey, body, headers: { 'idempotency-key': 'k-1' } });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.sessionId).toBe(first.body.sessionId);
    expect(again.body.sessionToken).toBe(first.body.sessionToken);
    const other = await t.call('POST', '/api/widget/sessions', { token: integration.apiKey, body: { ...body, assessmentTitle: 'Other' }, headers: { 'idempotency-key': 'k-1' } });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(await t.deps.db.selectFrom('sessions').selectAll().execute()).toHaveLength(1);
    // Keys are per integration.
    const second = await createIntegration(t, { name: 'Other LMS' });
    const theirs = await t.call('POST', '/api/widget/sessions', { token: second.apiKey, body, headers: { 'idempotency-key': 'k-1' } });
    expect(theirs.status).toBe(201);
    expect(theirs.body.sessionId).not.toBe(first.body.sessionId);
  });

  it('requires enrollment before start, and walks created → in_progress → completed', async () => {
    const integration = await createIntegration(t);
    const session = await createSession(t, integration.apiKey, { config: { maxDurationMinutes: 60 } });
    const early = await t.call('POST', '/api/widget/session/start', { token: session.sessionToken });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('enrollment_required');
    const completeEarly = await t.call('POST', '/api/widget/session/complete', { token: session.sessionToken });
    expect(completeEarly.status).toBe(409);
    expect(completeEarly.body.error.code).toBe('session_not_in_progress');

    await markEnrolled(t, session.sessionId);
    const start = await t.call('POST', '/api/widget/session/start', { token: session.sessionToken });
    expect(start.status).toBe(200);
    expect(start.body).toMatchObject({ status: 'in_progress', authScore: 100, startedAt: new Date(t.clock.now()).toISOString() });
    expect(Date.parse(start.body.expiresAt)).toBe(t.clock.now() + 60 * 60_000 + 30 * 60_000);
    const startAgain = await t.call('POST', '/api/widget/session/start', { token: session.sessionToken });
    expect(startAgain.status).toBe(200);
    expect(startAgain.body.startedAt).toBe(start.body.startedAt);

    t.clock.advance(5 * 60_000);
    const done = await t.call('POST', '/api/widget/session/complete', { token: session.sessionToken });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'completed', stopReason: null, endedAt: new Date(t.clock.now()).toISOString() });
    expect((await t.call('POST', '/api/widget/session/complete', { token: session.sessionToken })).status).toBe(200);
    const stop = await t.call('POST', '/api/widget/session/stop', { token: session.sessionToken });
    expect(stop.status).toBe(409);
    const restart = await t.call('POST', '/api/widget/session/start', { token: session.sessionToken });
    expect(restart.status).toBe(409);
    expect(restart.body.error.code).toBe('session_ended');
    const violation = await t.call('POST', '/api/widget/session/violation', {
      token: session.sessionToken,
      body: { id: eventId(), type: 'tab_switch', occurredAt: new Date(t.clock.now()).toISOString() },
    });
    expect(violation.status).toBe(409);
    expect(violation.body.error.code).toBe('session_not_in_progress');

    const detail = await t.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(detail.body).toMatchObject({ status: 'completed', authScore: 100, externalUserId: 'student-123', externalAssessmentId: 'exam-456' });
  });

  it('stops manually (widget) with a note, and by the proctor (API key)', async () => {
    const { integration, session } = await startedSession(t);
    const stop = await t.call('POST', '/api/widget/session/stop', { token: session.sessionToken, body: { reason: 'Candidate felt unwell' } });
    expect(stop.status).toBe(200);
    expect(stop.body).toMatchObject({ status: 'stopped', stopReason: 'manual' });
    const stopNoBody = await t.call('POST', '/api/widget/session/stop', { token: session.sessionToken });
    expect(stopNoBody.status).toBe(200);
    const stopped = await t.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(stopped.body).toMatchObject({ stopReason: 'manual', stopNote: 'Candidate felt unwell' });

    const other = await createSession(t, integration.apiKey);
    await markEnrolled(t, other.sessionId);
    await t.call('POST', '/api/widget/session/start', { token: other.sessionToken });
    const proctor = await t.call('POST', `/api/widget/sessions/${other.sessionId}/stop`, { token: integration.apiKey, body: {} });
    expect(proctor.status).toBe(200);
    expect(proctor.body).toMatchObject({ status: 'stopped', stopReason: 'proctor' });
    expect((await t.call('GET', `/api/widget/sessions/${other.sessionId}`, { token: integration.apiKey })).body.stopNote).toBeNull();
    const seen = await t.call('GET', '/api/widget/session', { token: other.sessionToken });
    expect(seen.body).toMatchObject({ status: 'stopped', stopReason: 'proctor' });
  });

  it('expires a session past maxDurationMinutes, and its token after the grace period', async () => {
    const { integration, session } = await startedSession(t, { config: { maxDurationMinutes: 30 } });
    t.clock.advance(30 * 60_000);
    const me = await t.call('GET', '/api/widget/session', { token: session.sessionToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ status: 'expired', stopReason: 'expired' });
    const detail = await t.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(detail.body.status).toBe('expired');
    t.clock.advance(30 * 60_000);
    const late = await t.call('GET', '/api/widget/session', { token: session.sessionToken });
    expect(late.status).toBe(401);
    expect(late.body.error.code).toBe('session_token_expired');
  });

  it('expires through the periodic sweep without any request', async () => {
    const { expireOverdueSessions } = await import('../src/core/sessions/service.ts');
    const { integration, session } = await startedSession(t, { config: { maxDurationMinutes: 10 } });
    t.clock.advance(10 * 60_000 + 1);
    expect(await expireOverdueSessions(t.deps)).toBe(1);
    const row = await t.deps.db.selectFrom('sessions').selectAll().where('id', '=', session.sessionId).executeTakeFirstOrThrow();
    expect(row.status).toBe('expired');
    expect(await expireOverdueSessions(t.deps)).toBe(0);
    void integration;
  });

  it('lists sessions newest first with filters and cursor pagination', async () => {
    const integration = await createIntegration(t);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const s = await createSession(t, integration.apiKey, { externalUserId: `u${i % 2}`, externalAssessmentId: i < 3 ? 'exam-a' : 'exam-b' });
      ids.push(s.sessionId);
      t.clock.advance(1000);
    }
    const other = await createIntegration(t, { name: 'Other' });
    await createSession(t, other.apiKey);

    const page1 = await t.call('GET', '/api/widget/sessions?limit=2', { token: integration.apiKey });
    expect(page1.status).toBe(200);
    expect(page1.body.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([ids[4], ids[3]]);
    const page2 = await t.call('GET', `/api/widget/sessions?limit=2&cursor=${page1.body.nextCursor}`, { token: integration.apiKey });
    expect(page2.body.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([ids[2], ids[1]]);
    const page3 = await t.call('GET', `/api/widget/sessions?limit=2&cursor=${page2.body.nextCursor}`, { token: integration.apiKey });
    expect(page3.body.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([ids[0]]);
    expect(page3.body.nextCursor).toBeNull();

    const filtered = await t.call('GET', '/api/widget/sessions?externalUserId=u0&externalAssessmentId=exam-a', { token: integration.apiKey });
    expect(filtered.body.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([ids[2], ids[0]]);
    const byStatus = await t.call('GET', '/api/widget/sessions?status=in_progress', { token: integration.apiKey });
    expect(byStatus.body.sessions).toEqual([]);
    const badStatus = await t.call('GET', '/api/widget/sessions?status=bogus', { token: integration.apiKey });
    expect(badStatus.status).toBe(400);
    const badCursor = await t.call('GET', '/api/widget/sessions?cursor=zzz', { token: integration.apiKey });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error.code).toBe('invalid_cursor');
  });

  it('erases personal data and keeps an anonymous audit row', async () => {
    const { integration, session } = await startedSession(t);
    await t.call('POST', '/api/widget/session/violation', {
      token: session.sessionToken,
      body: { id: eventId(), type: 'copy_paste', occurredAt: new Date(t.clock.now()).toISOString(), details: { text: 'secret answer' } },
    });
    await t.deps.blobs.put(`sessions/${session.sessionId}/face/enrollment.img`, new Uint8Array([1, 2, 3]), 'image/jpeg');
    const res = await t.call('DELETE', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'stopped', stopReason: 'erased', externalUserId: null, userName: null, userEmail: null });
    expect(res.body.erasedAt).not.toBeNull();
    expect(res.body.violations).toHaveLength(1);
    expect(res.body.violations[0]).toMatchObject({ type: 'copy_paste', details: null });
    expect(await t.deps.blobs.get(`sessions/${session.sessionId}/face/enrollment.img`)).toBeNull();
    const row = await t.deps.db.selectFrom('sessions').selectAll().where('id', '=', session.sessionId).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toMatch(/John Doe|john@example.com|student-123/);
    const token = await t.call('GET', '/api/widget/session', { token: session.sessionToken });
    expect(token.status).toBe(401);
  });

  it('purges personal data after the retention period', async () => {
    const { purgeExpiredPersonalData } = await import('../src/core/sessions/erase.ts');
    const integration = await createIntegration(t, { name: 'Short retention', retentionDays: 2 });
    const session = await createSession(t, integration.apiKey);
    t.clock.advance(24 * 3600_000);
    expect(await purgeExpiredPersonalData(t.deps)).toBe(0);
    t.clock.advance(24 * 3600_000 + 1);
    expect(await purgeExpiredPersonalData(t.deps)).toBe(1);
    const detail = await t.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(detail.body.userName).toBeNull();
    expect(detail.body.erasedAt).not.toBeNull();
    expect(await purgeExpiredPersonalData(t.deps)).toBe(0);
  });
});
