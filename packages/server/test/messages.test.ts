import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/core/app.ts';
import { createIntegration, createSession, makeTestApp, startedSession, type TestApp } from './helpers.ts';

const MINE = '/api/widget/session/messages';
const theirs = (sessionId: string) => `/api/widget/sessions/${sessionId}/messages`;

describe('messages between candidate and proctor', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => t.close());

  async function storedMessages(sessionId: string) {
    return t.deps.db.selectFrom('messages').selectAll().where('session_id', '=', sessionId).orderBy('seq').execute();
  }

  it('both sides post and read the same conversation in order, with roles', async () => {
    const { integration, session } = await startedSession(t);
    const a = await t.call('POST', MINE, { token: session.sessionToken, body: { body: 'My camera froze, can I restart?' } });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ sessionId: session.sessionId, senderRole: 'candidate', body: 'My camera froze, can I restart?' });
    expect(a.body.id).toMatch(/^msg_[A-Za-z0-9]{20}$/);
    expect(a.body.createdAt).toBe(new Date(t.clock.now()).toISOString());

    const b = await t.call('POST', theirs(session.sessionId), { token: integration.apiKey, body: { body: '  Yes, go ahead.  ' } });
    expect(b.status).toBe(201);
    expect(b.body).toMatchObject({ senderRole: 'proctor', body: 'Yes, go ahead.' });
    const c = await t.call('POST', MINE, { token: session.sessionToken, body: { body: 'Thanks' } });
    expect(c.status).toBe(201);

    const expected = [a.body, b.body, c.body];
    const candidateView = await t.call('GET', MINE, { token: session.sessionToken });
    expect(candidateView.status).toBe(200);
    expect(candidateView.body).toEqual({ messages: expected });
    const proctorView = await t.call('GET', theirs(session.sessionId), { token: integration.apiKey });
    expect(proctorView.status).toBe(200);
    expect(proctorView.body).toEqual({ messages: expected });

    const rows = await storedMessages(session.sessionId);
    expect(rows.map((r) => [r.id, r.sender_role])).toEqual(expected.map((m) => [m.id, m.senderRole]));
    const detail = await t.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(detail.body.messagesCount).toBe(3);
  });

  it('pages with after= and limit=, on both sides', async () => {
    const { integration, session } = await startedSession(t);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = i % 2
        ? await t.call('POST', theirs(session.sessionId), { token: integration.apiKey, body: { body: `m${i}` } })
        : await t.call('POST', MINE, { token: session.sessionToken, body: { body: `m${i}` } });
      ids.push(res.body.id);
    }
    const first = await t.call('GET', `${MINE}?limit=2`, { token: session.sessionToken });
    expect(first.body.messages.map((m: { body: string }) => m.body)).toEqual(['m0', 'm1']);
    const second = await t.call('GET', `${MINE}?limit=2&after=${ids[1]}`, { token: session.sessionToken });
    expect(second.body.messages.map((m: { body: string }) => m.body)).toEqual(['m2', 'm3']);
    const last = await t.call('GET', `${theirs(session.sessionId)}?limit=2&after=${ids[3]}`, { token: integration.apiKey });
    expect(last.body.messages.map((m: { body: string }) => m.body)).toEqual(['m4']);
    const none = await t.call('GET', `${MINE}?after=${ids[4]}`, { token: session.sessionToken });
    expect(none.body).toEqual({ messages: [] });
  });

  it('refuses an after= that is not a message of this session, and a bad limit', async () => {
    const { integration, session } = await startedSession(t);
    const other = await createSession(t, integration.apiKey, { externalUserId: 'student-999' });
    const foreign = await t.call('POST', MINE, { token: other.sessionToken, body: { body: 'elsewhere' } });
    expect(foreign.status).toBe(201);

    for (const after of [foreign.body.id, 'msg_AAAAAAAAAAAAAAAAAAAA', '../etc', 'x'.repeat(65)]) {
      const res = await t.call('GET', `${MINE}?after=${encodeURIComponent(after)}`, { token: session.sessionToken });
      expect(res.status, after).toBe(400);
      expect(res.body.error.code, after).toMatch(after.length > 64 ? /validation_failed/ : /invalid_after/);
    }
    const proctorSide = await t.call('GET', `${theirs(session.sessionId)}?after=${foreign.body.id}`, { token: integration.apiKey });
    expect(proctorSide.status).toBe(400);
    expect(proctorSide.body.error.code).toBe('invalid_after');
    for (const limit of ['0', '501', 'lots']) {
      const res = await t.call('GET', `${MINE}?limit=${limit}`, { token: session.sessionToken });
      expect(res.status, limit).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });

  it('validates the body and stores nothing when it is refused', async () => {
    const { integration, session } = await startedSession(t);
    const bad: [unknown, number, string][] = [
      [{ body: '' }, 400, 'validation_failed'],
      [{ body: '   \n ' }, 400, 'validation_failed'],
      [{ body: 'x'.repeat(4001) }, 400, 'validation_failed'],
      [{}, 400, 'validation_failed'],
      [{ body: 42 }, 400, 'validation_failed'],
      ['{"body": "unterminated', 400, 'invalid_json'],
    ];
    for (const [body, status, code] of bad) {
      for (const [path, token] of [[MINE, session.sessionToken], [theirs(session.sessionId), integration.apiKey]] as const) {
        const res = await t.call('POST', path, { token, body });
        expect(res.status, JSON.stringify(body).slice(0, 40)).toBe(status);
        expect(res.body.error.code).toBe(code);
      }
    }
    const plain = await t.call('POST', MINE, { token: session.sessionToken, body: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(plain.status).toBe(415);
    expect(plain.body.error.code).toBe('unsupported_media_type');
    expect(await storedMessages(session.sessionId)).toHaveLength(0);

    const longest = await t.call('POST', MINE, { token: session.sessionToken, body: { body: 'y'.repeat(4000) } });
    expect(longest.status).toBe(201);
    expect(longest.body.body).toHaveLength(4000);
  });

  it('a session token only ever sees and writes its own session', async () => {
    const { integration, session: a } = await startedSession(t);
    const b = await createSession(t, integration.apiKey, { externalUserId: 'student-b' });
    await t.call('POST', MINE, { token: a.sessionToken, body: { body: 'from A' } });
    await t.call('POST', theirs(a.sessionId), { token: integration.apiKey, body: { body: 'to A' } });

    const bView = await t.call('GET', MINE, { token: b.sessionToken });
    expect(bView.status).toBe(200);
    expect(bView.body.messages).toEqual([]);
    const posted = await t.call('POST', MINE, { token: b.sessionToken, body: { body: 'from B' } });
    expect(posted.body.sessionId).toBe(b.sessionId);
    const aView = await t.call('GET', MINE, { token: a.sessionToken });
    expect(aView.body.messages.map((m: { body: string }) => m.body)).toEqual(['from A', 'to A']);

    // The proctor endpoints do not take a session token, even for the session's own id.
    const wrongKind = await t.call('GET', theirs(a.sessionId), { token: a.sessionToken });
    expect(wrongKind.status).toBe(401);
    expect(wrongKind.body.error.code).toBe('invalid_api_key');
  });

  it("another integration's API key gets 404 and changes nothing", async () => {
    const { session } = await startedSession(t);
    const stranger = await createIntegration(t, { name: 'Other LMS' });
    const read = await t.call('GET', theirs(session.sessionId), { token: stranger.apiKey });
    expect(read.status).toBe(404);
    expect(read.body.error.code).toBe('session_not_found');
    const write = await t.call('POST', theirs(session.sessionId), { token: stranger.apiKey, body: { body: 'hi' } });
    expect(write.status).toBe(404);
    expect(write.body.error.code).toBe('session_not_found');
    expect(await storedMessages(session.sessionId)).toHaveLength(0);
    const unknown = await t.call('GET', theirs('ses_AAAAAAAAAAAAAAAAAAAA'), { token: stranger.apiKey });
    expect(unknown.status).toBe(404);
  });

  it('allows chat before the start, refuses new messages after the end but keeps them readable', async () => {
    const integration = await createIntegration(t);
    const session = await createSession(t, integration.apiKey);
    const early = await t.call('POST', MINE, { token: session.sessionToken, body: { body: 'Is the exam open-book?' } });
    expect(early.status).toBe(201);

    const { session: running, integration: owner } = await startedSession(t);
    await t.call('POST', MINE, { token: running.sessionToken, body: { body: 'Done soon' } });
    expect((await t.call('POST', '/api/widget/session/complete', { token: running.sessionToken })).status).toBe(200);

    const late = await t.call('POST', MINE, { token: running.sessionToken, body: { body: 'One more thing' } });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('session_ended');
    const lateProctor = await t.call('POST', theirs(running.sessionId), { token: owner.apiKey, body: { body: 'Bye' } });
    expect(lateProctor.status).toBe(409);
    expect(lateProctor.body.error.code).toBe('session_ended');

    const read = await t.call('GET', MINE, { token: running.sessionToken });
    expect(read.status).toBe(200);
    expect(read.body.messages.map((m: { body: string }) => m.body)).toEqual(['Done soon']);
    const proctorRead = await t.call('GET', theirs(running.sessionId), { token: owner.apiKey });
    expect(proctorRead.body.messages).toHaveLength(1);
  });

  it('after erasure the token is refused (401) and the proctor gets 410', async () => {
    const { integration, session } = await startedSession(t);
    await t.call('POST', MINE, { token: session.sessionToken, body: { body: 'personal data' } });
    const erased = await t.call('DELETE', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(erased.status).toBe(200);

    const read = await t.call('GET', MINE, { token: session.sessionToken });
    expect(read.status).toBe(401);
    const write = await t.call('POST', MINE, { token: session.sessionToken, body: { body: 'still here?' } });
    expect(write.status).toBe(401);
    const proctorRead = await t.call('GET', theirs(session.sessionId), { token: integration.apiKey });
    expect(proctorRead.status).toBe(410);
    expect(proctorRead.body.error.code).toBe('session_erased');
    const proctorWrite = await t.call('POST', theirs(session.sessionId), { token: integration.apiKey, body: { body: 'hello?' } });
    expect(proctorWrite.status).toBe(410);
    expect(await storedMessages(session.sessionId)).toHaveLength(0);
  });

  it('limits how fast one side can send (429 with Retry-After), per side', async () => {
    const { integration, session } = await startedSession(t);
    for (let i = 0; i < 30; i++) {
      const res = await t.call('POST', MINE, { token: session.sessionToken, body: { body: `spam ${i}` } });
      expect(res.status).toBe(201);
    }
    const over = await t.call('POST', MINE, { token: session.sessionToken, body: { body: 'one too many' } });
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('rate_limited');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    const proctor = await t.call('POST', theirs(session.sessionId), { token: integration.apiKey, body: { body: 'Please slow down' } });
    expect(proctor.status).toBe(201);
    t.clock.advance(61_000);
    const later = await t.call('POST', MINE, { token: session.sessionToken, body: { body: 'sorry' } });
    expect(later.status).toBe(201);
    expect(await storedMessages(session.sessionId)).toHaveLength(32);
  });

  it('documents every message and event route for OpenAPI', () => {
    const { docs } = createApp(t.deps);
    const routes = docs.map((d) => `${d.method} ${d.path}`);
    for (const route of [
      'get /api/widget/session/messages',
      'post /api/widget/session/messages',
      'get /api/widget/sessions/:id/messages',
      'post /api/widget/sessions/:id/messages',
      'get /api/widget/session/events',
      'get /api/widget/sessions/:id/events',
    ]) {
      expect(routes).toContain(route);
    }
    const events = docs.find((d) => d.path === '/api/widget/session/events');
    expect(events?.responses[200]?.contentType).toBe('text/event-stream');
    expect(events?.description).toMatch(/EventSource/);
  });
});
