import { computeAuthScores } from '@secureaccess/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventId, makeTestApp, startedSession, type TestApp } from './helpers.ts';

describe('computeAuthScores (protocol)', () => {
  const base = { enrolled: true, identityScoreSum: 0, identityScoreCount: 0, monitoredMs: 0, oneFaceMs: 0, behavioralViolations: {} };

  it('starts at 100 after enrollment and 50 without it', () => {
    expect(computeAuthScores(base)).toEqual({ overall: 100, identity: 100, presence: 100, behavioral: 100 });
    expect(computeAuthScores({ ...base, enrolled: false }).overall).toBe(50);
  });

  it('weights identity 50 %, presence 20 %, behavioral 30 % and rounds to one decimal', () => {
    const scores = computeAuthScores({
      ...base,
      identityScoreSum: 90 + 80,
      identityScoreCount: 2,
      monitoredMs: 3000,
      oneFaceMs: 2000,
      behavioralViolations: { low: 1, medium: 1, high: 1, critical: 1 },
    });
    // identity 85, presence 66.67, behavioral 100 - 2 - 5 - 10 - 25 = 58
    expect(scores).toEqual({ identity: 85, presence: 66.7, behavioral: 58, overall: 73.2 });
    expect(computeAuthScores({ ...base, behavioralViolations: { critical: 5 } }).behavioral).toBe(0);
  });
});

describe('server score for a scripted exam', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => t.close());

  const at = (offsetMs: number) => new Date(t.clock.now() + offsetMs).toISOString();

  it('combines behavioral violations and presence samples, and raises face absence from durations', async () => {
    const { integration, session } = await startedSession(t);
    const token = session.sessionToken;
    const v1 = await t.call('POST', '/api/widget/session/violation', { token, body: { id: eventId(), type: 'tab_switch', occurredAt: at(0) } });
    expect(v1.body.scores).toEqual({ overall: 98.5, identity: 100, presence: 100, behavioral: 95 });
    const v2 = await t.call('POST', '/api/widget/session/violation', { token, body: { id: eventId(), type: 'window_blur', occurredAt: at(0) } });
    expect(v2.body.scores.overall).toBe(97.9);

    // One face for 10.5 s, then none for 4 s (a brief absence), then the face again.
    const samples = [];
    for (let ms = 0; ms <= 10_000; ms += 500) samples.push({ at: at(ms), faces: 1 });
    for (let ms = 10_500; ms <= 14_000; ms += 500) samples.push({ at: at(ms), faces: 0 });
    samples.push({ at: at(14_500), faces: 1 });
    const p = await t.call('POST', '/api/widget/session/presence', { token, body: { samples } });
    expect(p.status).toBe(200);
    expect(p.body.accepted).toBe(samples.length);
    // presence = 10 500 / 14 500 ms; overall = 50 + 0.2 × 72.41 + 0.3 × 93
    expect(p.body.scores).toEqual({ overall: 92.4, identity: 100, presence: 72.4, behavioral: 93 });
    expect(p.body.violations).toHaveLength(1);
    expect(p.body.violations[0]).toMatchObject({ type: 'face_absent_brief', severity: 'low', category: 'presence', source: 'server', durationMs: 4000, occurredAt: at(10_500) });

    const retry = await t.call('POST', '/api/widget/session/presence', { token, body: { samples } });
    expect(retry.body.accepted).toBe(0);
    expect(retry.body.violations).toEqual([]);

    const detail = await t.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(detail.body.authScore).toBe(92.4);
    expect(detail.body.scores).toEqual({ overall: 92.4, identity: 100, presence: 72.4, behavioral: 93 });
    expect(detail.body.violationCounts).toEqual({ low: 2, medium: 1, high: 0, critical: 0 });
    expect(detail.body.scoreSeries.map((p: { overall: number }) => p.overall)).toEqual([100, 98.5, 97.9, 92.4]);

    const client = await t.call('POST', '/api/widget/session/auth-score', { token, body: { overall: 99, identity: 100, presence: 100, behavioral: 97 } });
    expect(client.status).toBe(200);
    expect(client.body.authScore).toBe(92.4);
    const after = await t.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(after.body.authScore).toBe(92.4);
    expect(after.body.clientAuthScore).toMatchObject({ overall: 99, behavioral: 97 });
    const badScore = await t.call('POST', '/api/widget/session/auth-score', { token, body: { overall: 101 } });
    expect(badScore.status).toBe(400);
  });

  it('raises face_absent_extended once per absence, as soon as it lasts long enough', async () => {
    const { session } = await startedSession(t);
    const token = session.sessionToken;
    const samples = [{ at: at(0), faces: 1 }];
    for (let ms = 1000; ms <= 15_000; ms += 1000) samples.push({ at: at(ms), faces: 0 });
    const first = await t.call('POST', '/api/widget/session/presence', { token, body: { samples } });
    expect(first.body.violations).toEqual([]);
    const second = await t.call('POST', '/api/widget/session/presence', { token, body: { samples: [{ at: at(16_000), faces: 0 }, { at: at(17_000), faces: 0 }] } });
    expect(second.body.violations).toHaveLength(1);
    expect(second.body.violations[0]).toMatchObject({ type: 'face_absent_extended', severity: 'high', durationMs: 15_000 });
    const back = await t.call('POST', '/api/widget/session/presence', { token, body: { samples: [{ at: at(30_000), faces: 1 }] } });
    expect(back.body.violations).toEqual([]);
  });

  it('raises multiple_faces when a second face stays a second, once per run, with config durations', async () => {
    const { session } = await startedSession(t, { config: { faceAbsentBriefSeconds: 5, faceAbsentExtendedSeconds: 20 } });
    const token = session.sessionToken;
    const flicker = await t.call('POST', '/api/widget/session/presence', {
      token,
      body: { samples: [{ at: at(0), faces: 1 }, { at: at(500), faces: 2 }, { at: at(1000), faces: 1 }] },
    });
    expect(flicker.body.violations).toEqual([]);
    const run = await t.call('POST', '/api/widget/session/presence', {
      token,
      body: { samples: [1500, 2000, 2500, 3000, 3500].map((ms) => ({ at: at(ms), faces: 2 })) },
    });
    expect(run.body.violations.map((v: { type: string }) => v.type)).toEqual(['multiple_faces']);
    expect(run.body.violations[0].details).toEqual({ faces: 2 });
    // A 4 s absence is below this session's 5 s brief threshold.
    const absent = await t.call('POST', '/api/widget/session/presence', {
      token,
      body: { samples: [...[4000, 5000, 6000, 7000].map((ms) => ({ at: at(ms), faces: 0 })), { at: at(8000), faces: 1 }] },
    });
    expect(absent.body.violations).toEqual([]);
  });

  it('refuses presence outside a running session and malformed samples', async () => {
    const { session } = await startedSession(t);
    const token = session.sessionToken;
    expect((await t.call('POST', '/api/widget/session/presence', { token, body: { samples: [] } })).status).toBe(400);
    expect((await t.call('POST', '/api/widget/session/presence', { token, body: { samples: [{ at: at(0), faces: -1 }] } })).status).toBe(400);
    expect((await t.call('POST', '/api/widget/session/presence', { token, body: { samples: [{ at: at(3600_000), faces: 1 }] } })).status).toBe(400);
    await t.call('POST', '/api/widget/session/complete', { token });
    const late = await t.call('POST', '/api/widget/session/presence', { token, body: { samples: [{ at: at(0), faces: 1 }] } });
    expect(late.status).toBe(409);
  });
});
