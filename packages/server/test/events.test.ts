import { afterEach, describe, expect, it } from 'vitest';
import { createIntegration, eventId, makeTestApp, startedSession, type TestApp } from './helpers.ts';

interface SseEvent {
  id?: string;
  event?: string;
  data?: any;
  comment?: string;
}

/**
 * Reads a `text/event-stream` body the way the widget does (fetch + stream reader) and parses it into
 * events; comment lines become `{comment}` entries so heartbeats can be seen.
 */
class SseReader {
  readonly events: SseEvent[] = [];
  private buffer = '';
  private readonly decoder = new TextDecoder();
  ended = false;

  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  /** Reads until an event matching `predicate` arrives (or fails after `timeoutMs`). */
  async next(predicate: (event: SseEvent) => boolean, timeoutMs = 3000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    let seen = this.events.length;
    for (;;) {
      for (; seen < this.events.length; seen++) {
        const event = this.events[seen]!;
        if (predicate(event)) {
          this.events.splice(0, seen + 1);
          return event;
        }
      }
      if (this.ended) throw new Error(`stream ended before the expected event; saw ${JSON.stringify(this.events)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for an event; saw ${JSON.stringify(this.events)}`);
      await this.pull(left);
    }
  }

  /** Resolves once the server has closed the stream. */
  async untilEnd(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('the stream did not end');
      await this.pull(left);
    }
  }

  private async pull(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const result = await Promise.race([this.reader.read(), timeout]);
    clearTimeout(timer);
    if (result === 'timeout') return;
    if (result.done) {
      this.ended = true;
      return;
    }
    this.buffer += this.decoder.decode(result.value, { stream: true });
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event: SseEvent = {};
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) event.comment = line.slice(1).trim();
        else if (line.startsWith('id: ')) event.id = line.slice(4);
        else if (line.startsWith('event: ')) event.event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length) event.data = JSON.parse(data.join('\n'));
      this.events.push(event);
    }
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }
}

async function openStream(t: TestApp, path: string, token: string, init: { headers?: Record<string, string>; signal?: AbortSignal } = {}) {
  const response = await t.app.request(path, {
    headers: { authorization: `Bearer ${token}`, ...init.headers },
    signal: init.signal,
  });
  return { response, sse: response.status === 200 && response.body ? new SseReader(response.body.getReader()) : null };
}

async function until(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const WIDGET_EVENTS = '/api/widget/session/events';
const proctorEvents = (sessionId: string) => `/api/widget/sessions/${sessionId}/events`;

describe('live events (SSE)', () => {
  let t: TestApp;
  afterEach(async () => t.close());

  it("streams a snapshot, then the proctor's message to the candidate and the candidate's to the proctor", async () => {
    t = await makeTestApp();
    const { integration, session } = await startedSession(t);
    const { response, sse } = await openStream(t, WIDGET_EVENTS, session.sessionToken, { headers: { origin: 'https://lms.example' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('access-control-allow-origin')).toBe('https://lms.example');

    const snapshot = await sse!.next((e) => e.event === 'snapshot');
    expect(snapshot.id).toBe('0.0');
    expect(snapshot.data.lastMessageId).toBeNull();
    expect(snapshot.data.session).toMatchObject({ sessionId: session.sessionId, status: 'in_progress', userName: 'John Doe' });

    const proctor = await openStream(t, proctorEvents(session.sessionId), integration.apiKey);
    expect(proctor.response.status).toBe(200);
    const proctorSnapshot = await proctor.sse!.next((e) => e.event === 'snapshot');
    expect(proctorSnapshot.data.session).toMatchObject({ sessionId: session.sessionId, status: 'in_progress' });
    expect(t.deps.bus.size).toBe(2);

    const sent = await t.call('POST', `/api/widget/sessions/${session.sessionId}/messages`, {
      token: integration.apiKey,
      body: { body: 'Please show your desk.' },
    });
    expect(sent.status).toBe(201);
    const received = await sse!.next((e) => e.event === 'message');
    expect(received.id).toBe(sent.body.id);
    expect(received.data).toEqual(sent.body);
    expect(received.data.senderRole).toBe('proctor');

    const reply = await t.call('POST', '/api/widget/session/messages', { token: session.sessionToken, body: { body: 'Done.' } });
    const atProctor = await proctor.sse!.next((e) => e.event === 'message' && e.data.id === reply.body.id);
    expect(atProctor.data).toMatchObject({ senderRole: 'candidate', body: 'Done.' });
    expect((await sse!.next((e) => e.event === 'message')).data.id).toBe(reply.body.id);

    await sse!.cancel();
    await proctor.sse!.cancel();
    await until(() => t.deps.bus.size === 0, 'bus listeners released');
  });

  it('a reported tab switch shows up as violation and score events; completion as status', async () => {
    t = await makeTestApp();
    const { session } = await startedSession(t);
    const { sse } = await openStream(t, WIDGET_EVENTS, session.sessionToken);
    const snapshot = await sse!.next((e) => e.event === 'snapshot');
    const before = snapshot.data.session.scores.behavioral;

    const reported = await t.call('POST', '/api/widget/session/violation', {
      token: session.sessionToken,
      body: { id: eventId(), type: 'tab_switch', occurredAt: new Date(t.clock.now()).toISOString() },
    });
    expect(reported.status).toBe(201);
    const violation = await sse!.next((e) => e.event === 'violation');
    expect(violation.data).toMatchObject({ id: reported.body.violation.id, type: 'tab_switch', severity: 'medium', category: 'behavioral' });
    expect(violation.id).toMatch(/^0\.\d+$/);
    const score = await sse!.next((e) => e.event === 'score');
    expect(score.data).toEqual(reported.body.scores);
    expect(score.data.behavioral).toBeLessThan(before);

    await t.call('POST', '/api/widget/session/complete', { token: session.sessionToken });
    const status = await sse!.next((e) => e.event === 'status');
    expect(status.data).toMatchObject({ status: 'completed', stopReason: null });
    await sse!.cancel();
  });

  it('releases the bus subscription when the client aborts the request', async () => {
    t = await makeTestApp();
    const { integration, session } = await startedSession(t);
    const controller = new AbortController();
    const { sse } = await openStream(t, proctorEvents(session.sessionId), integration.apiKey, { signal: controller.signal });
    await sse!.next((e) => e.event === 'snapshot');
    expect(t.deps.bus.size).toBe(1);
    controller.abort();
    await until(() => t.deps.bus.size === 0, 'bus listener released after abort');
    // Publishing to a session nobody listens to any more is harmless.
    const sent = await t.call('POST', '/api/widget/session/messages', { token: session.sessionToken, body: { body: 'anyone?' } });
    expect(sent.status).toBe(201);
    expect(t.deps.bus.size).toBe(0);
  });

  it('sends comment heartbeats, and closes the stream once the token has expired', async () => {
    t = await makeTestApp({ config: { sseHeartbeatMs: 30 } });
    const { session } = await startedSession(t);
    const { sse } = await openStream(t, WIDGET_EVENTS, session.sessionToken);
    await sse!.next((e) => e.event === 'snapshot');
    const beat = await sse!.next((e) => e.comment !== undefined);
    expect(beat.comment).toBe('heartbeat');
    t.clock.advance(24 * 60 * 60 * 1000);
    await sse!.untilEnd();
    await until(() => t.deps.bus.size === 0, 'bus listener released after expiry');
    const again = await openStream(t, WIDGET_EVENTS, session.sessionToken);
    expect(again.response.status).toBe(401);
  });

  it('replays the messages missed since Last-Event-ID', async () => {
    t = await makeTestApp();
    const { integration, session } = await startedSession(t);
    const bodies = ['one', 'two', 'three'];
    const ids: string[] = [];
    for (const body of bodies) {
      ids.push((await t.call('POST', `/api/widget/sessions/${session.sessionId}/messages`, { token: integration.apiKey, body: { body } })).body.id);
    }
    const resumed = await openStream(t, WIDGET_EVENTS, session.sessionToken, { headers: { 'last-event-id': `${ids[0]}.4` } });
    const snapshot = await resumed.sse!.next((e) => e.event === 'snapshot');
    expect(snapshot.id).toBe(`${ids[0]}.0`);
    expect(snapshot.data.lastMessageId).toBe(ids[2]);
    const replayed = [await resumed.sse!.next(() => true), await resumed.sse!.next(() => true)];
    expect(replayed.map((e) => [e.event, e.id, e.data.body])).toEqual([
      ['message', ids[1], 'two'],
      ['message', ids[2], 'three'],
    ]);
    // Later non-message events carry the position of the last message delivered.
    await t.call('POST', '/api/widget/session/violation', {
      token: session.sessionToken,
      body: { id: eventId(), type: 'window_blur', occurredAt: new Date(t.clock.now()).toISOString() },
    });
    expect((await resumed.sse!.next((e) => e.event === 'violation')).id).toMatch(new RegExp(`^${ids[2]}\\.\\d+$`));
    await resumed.sse!.cancel();

    const fromStart = await openStream(t, WIDGET_EVENTS, session.sessionToken, { headers: { 'last-event-id': '0.3' } });
    await fromStart.sse!.next((e) => e.event === 'snapshot');
    expect((await fromStart.sse!.next(() => true)).data.body).toBe('one');
    await fromStart.sse!.cancel();

    // An id that is not one of this session's messages replays nothing.
    const stranger = await openStream(t, WIDGET_EVENTS, session.sessionToken, { headers: { 'last-event-id': 'msg_AAAAAAAAAAAAAAAAAAAA' } });
    const fresh = await stranger.sse!.next((e) => e.event === 'snapshot');
    expect(fresh.id).toBe(`${ids[2]}.0`);
    const live = await t.call('POST', `/api/widget/sessions/${session.sessionId}/messages`, { token: integration.apiKey, body: { body: 'four' } });
    expect((await stranger.sse!.next((e) => e.event === 'message')).id).toBe(live.body.id);
    await stranger.sse!.cancel();
    await until(() => t.deps.bus.size === 0, 'bus listeners released');
  });

  it('refuses foreign, erased and wrong-kind credentials before streaming', async () => {
    t = await makeTestApp();
    const { integration, session } = await startedSession(t);
    const stranger = await createIntegration(t, { name: 'Other LMS' });
    const foreign = await openStream(t, proctorEvents(session.sessionId), stranger.apiKey);
    expect(foreign.response.status).toBe(404);
    expect((await foreign.response.json()).error.code).toBe('session_not_found');
    const wrongKind = await openStream(t, WIDGET_EVENTS, integration.apiKey);
    expect(wrongKind.response.status).toBe(401);
    expect((await wrongKind.response.json()).error.code).toBe('invalid_session_token');

    await t.call('DELETE', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    const erasedCandidate = await openStream(t, WIDGET_EVENTS, session.sessionToken);
    expect(erasedCandidate.response.status).toBe(401);
    expect((await erasedCandidate.response.json()).error.code).toBe('invalid_session_token');
    const erasedProctor = await openStream(t, proctorEvents(session.sessionId), integration.apiKey);
    expect(erasedProctor.response.status).toBe(410);
    expect((await erasedProctor.response.json()).error.code).toBe('session_erased');
    expect(t.deps.bus.size).toBe(0);
  });
});
