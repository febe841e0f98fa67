import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntegration, makeTestApp, type TestApp } from '../../../packages/server/test/helpers.ts';
import { startNodeServer } from '../../../packages/server/src/runtimes/node.ts';
import { createDemoApp, DEMO_CSP, type DemoAppOptions } from '../src/app.ts';
import { QUIZ } from '../src/page.ts';
import { externalUserIdFor, LIVE_NOT_AVAILABLE } from '../src/sessions.ts';

/**
 * The demo LMS against the real API in-process: its backend route creates sessions with the API key
 * over "HTTP" (the API app's fetch), and neither its answers nor its pages ever carry the key.
 */

let t: TestApp;
let apiKey: string;

/** The API app as the demo's HTTP client: requests to http://api.test/… go to it in-process. */
function apiFetch(app: TestApp['app']): typeof fetch {
  return ((input: RequestInfo | URL, init?: RequestInit) => app.fetch(new Request(input, init))) as typeof fetch;
}

/** The demo mounted at /demo as the Node runtime mounts it. */
function demoSite(overrides: Partial<DemoAppOptions> = {}): Hono {
  return new Hono().route('/demo', createDemoApp({ apiBaseUrl: 'http://api.test', apiKey, fetch: apiFetch(t.app), ...overrides }));
}

async function post(site: Hono, path: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await site.request(path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : null };
}

async function sessionDetail(sessionId: string) {
  const res = await t.call('GET', `/api/widget/sessions/${sessionId}`, { token: apiKey });
  expect(res.status).toBe(200);
  return res.body;
}

async function sessionCount(): Promise<number> {
  const row = await t.deps.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A localhost port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  t = await makeTestApp();
  apiKey = (await createIntegration(t, { name: 'Demo LMS' })).apiKey;
});

afterAll(async () => {
  await t?.close();
});

describe('POST /demo/api/sessions (the LMS backend)', () => {
  it('creates the session with the API key and returns its id and token, never the key', async () => {
    const res = await post(demoSite(), '/demo/api/sessions', { userName: 'Ada Lovelace', mode: 'recording' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      sessionId: expect.stringMatching(/^ses_/),
      sessionToken: expect.stringMatching(/^sa_sess_/),
      expiresAt: expect.any(String),
      mode: 'recording',
      assessmentType: 'recording',
      notice: null,
    });
    expect(res.text).not.toContain('sa_live_');
    expect(res.text).not.toContain(apiKey);
    expect(res.headers.get('cache-control')).toBe('no-store');

    const detail = await sessionDetail(res.body.sessionId);
    expect(detail).toMatchObject({
      userName: 'Ada Lovelace',
      externalUserId: await externalUserIdFor('Ada Lovelace'),
      assessmentTitle: 'Demo exam: general knowledge',
      externalAssessmentId: 'demo-quiz-1',
      assessmentType: 'recording',
      status: 'created',
      config: { maxDurationMinutes: 30, requireFullscreen: false },
    });
    // The token works for the widget's calls.
    const view = await t.call('GET', '/api/widget/session', { token: res.body.sessionToken });
    expect(view.status).toBe(200);
  });

  it('the fullscreen checkbox sets requireFullscreen', async () => {
    const res = await post(demoSite(), '/demo/api/sessions', { userName: 'Grace Hopper', mode: 'recording', requireFullscreen: true });
    expect(res.status).toBe(201);
    expect((await sessionDetail(res.body.sessionId)).config.requireFullscreen).toBe(true);
  });

  it('live and hybrid run as recording until live proctoring exists, and say so', async () => {
    for (const mode of ['live', 'hybrid']) {
      const res = await post(demoSite(), '/demo/api/sessions', { userName: 'Alan Turing', mode });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ mode, assessmentType: 'recording', notice: LIVE_NOT_AVAILABLE });
      expect(res.body.notice).toBe('Live proctoring is not available yet: this runs as a recorded exam.');
      expect((await sessionDetail(res.body.sessionId)).assessmentType).toBe('recording');
    }
  });

  it('refuses bad input with 400/413/415 and creates nothing', async () => {
    const site = demoSite();
    const before = await sessionCount();
    const cases: [unknown, number, string, RegExp][] = [
      [{ mode: 'recording' }, 400, 'validation_failed', /enter your name/],
      [{ userName: '   ' }, 400, 'validation_failed', /enter your name/],
      [{ userName: 'x'.repeat(101) }, 400, 'validation_failed', /at most 100/],
      [{ userName: 'Ada', mode: 'zoom' }, 400, 'validation_failed', /recording, live, hybrid/],
      [{ userName: 'Ada', requireFullscreen: 'yes' }, 400, 'validation_failed', /true or false/],
      [['Ada'], 400, 'validation_failed', /JSON object/],
      ['{"userName": "Ada"', 400, 'invalid_json', /not valid JSON/],
      [JSON.stringify({ userName: 'Ada', padding: 'x'.repeat(20_000) }), 413, 'payload_too_large', /larger than/],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await post(site, '/demo/api/sessions', body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message).toMatch(message);
    }
    const form = await post(site, '/demo/api/sessions', 'userName=Ada', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(await sessionCount()).toBe(before);
  });

  it('API down → 502 saying the API could not be reached', async () => {
    const port = await closedPort();
    const res = await post(demoSite({ apiBaseUrl: `http://127.0.0.1:${port}`, fetch: undefined }), '/demo/api/sessions', { userName: 'Ada' });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('secureaccess_unreachable');
    expect(res.body.error.message).toBe(`Could not reach the SecureAccess API at http://127.0.0.1:${port}: ECONNREFUSED.`);
    expect(res.text).not.toContain(apiKey);
  });

  it("the API's refusal → 502 with the API's own message", async () => {
    const res = await post(demoSite({ apiKey: 'sa_live_not-a-real-key' }), '/demo/api/sessions', { userName: 'Ada' });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('secureaccess_error');
    expect(res.body.error.message).toMatch(/^SecureAccess did not create the session: .+ \(invalid_api_key\)$/);
    expect(res.text).not.toContain('sa_live_');
  });

  it('limits the sessions one address creates', async () => {
    const site = demoSite({ sessionLimit: { max: 2, windowMs: 60_000 }, clientAddress: () => '203.0.113.9' });
    expect((await post(site, '/demo/api/sessions', { userName: 'One' })).status).toBe(201);
    expect((await post(site, '/demo/api/sessions', { userName: 'Two' })).status).toBe(201);
    const third = await post(site, '/demo/api/sessions', { userName: 'Three' });
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('rate_limited');
  });

  it('derives a stable external user id from the name', async () => {
    expect(await externalUserIdFor('Ada Lovelace')).toBe(await externalUserIdFor('ada lovelace'));
    expect(await externalUserIdFor('Ada Lovelace')).toMatch(/^demo-ada-lovelace-[0-9a-f]{8}$/);
    expect(await externalUserIdFor('José Núñez')).toMatch(/^demo-jose-nunez-[0-9a-f]{8}$/);
    expect(await externalUserIdFor('李小龍')).toMatch(/^demo-candidate-[0-9a-f]{8}$/);
    expect(await externalUserIdFor('李小龍')).not.toBe(await externalUserIdFor('王小明'));
  });
});

describe('the exam page', () => {
  it('GET /demo: the seed snippet, the event log, links; a CSP that lets the widget load; no key', async () => {
    const res = await demoSite().request('/demo');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(DEMO_CSP);
    expect(DEMO_CSP).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).toContain('<script src="/secureaccess-widget.js"></script>');
    expect(html).toContain('<div id="proctoring-widget">');
    expect(html).toContain('<ol id="event-log"');
    expect(html).toContain('<script src="/demo/demo.js"></script>');
    expect(html).toContain('href="/console"');
    expect(html).toContain('href="/api/docs"');
    expect(html).toContain(LIVE_NOT_AVAILABLE);
    expect(html).not.toMatch(/<script>|<script type="module">|\son[a-z]+="/); // no inline script (CSP)
    expect(html).not.toContain('sa_live_');
    expect(html).not.toContain(apiKey);
    for (const q of QUIZ) expect(html).toContain(q.question.replace(/"/g, '&quot;'));
  });

  it('demo.js embeds the widget as the seed does; script and stylesheet carry no key', async () => {
    const site = demoSite();
    const js = await site.request('/demo/demo.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const script = await js.text();
    for (const piece of [
      'new SecureAccessWidget({',
      'apiUrl: location.origin',
      "containerId: 'proctoring-widget'",
      'onReady:',
      'onAuthScoreUpdate:',
      'onCheatingDetected:',
      'onAssessmentComplete:',
      'onError:',
      'await widget.init()',
      'await widget.startAssessment()',
      'await widget.completeAssessment()',
      'item.dataset.event = name',
    ]) {
      expect(script).toContain(piece);
    }
    const css = await site.request('/demo/demo.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    for (const text of [script, await css.text()]) {
      expect(text).not.toContain('sa_live_');
      expect(text).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/); // no external resources
    }
  });

  it('POST /demo/api/grade marks the quiz on the server', async () => {
    const site = demoSite();
    const right = await post(site, '/demo/api/grade', { answers: QUIZ.map((q) => q.answer) });
    expect(right.body).toEqual({ correct: QUIZ.length, total: QUIZ.length });
    const some = await post(site, '/demo/api/grade', { answers: QUIZ.map((q, i) => (i === 0 ? q.answer : null)) });
    expect(some.body).toEqual({ correct: 1, total: QUIZ.length });
    const bad = await post(site, '/demo/api/grade', { answers: [1] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
  });
});

describe('the Node runtime serves the demo', () => {
  it('first start creates the demo integration; /demo creates sessions over HTTP; a restart reuses the integration', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sa-demo-'));
    const quiet = { info() {}, warn() {}, error() {} };
    try {
      const first = await startNodeServer({ port: 0, host: '127.0.0.1', dataDir, logger: quiet, config: { adminToken: undefined }, faceEngine: { enabled: false } });
      let demo;
      try {
        demo = first.demo!;
        expect(demo.origin).toBe('first_start');
        expect(demo.printableKey).toMatch(/^sa_live_/);
        expect(existsSync(join(dataDir, 'demo-integration.json'))).toBe(true);

        const page = await fetch(`${first.url}/demo`);
        expect(page.status).toBe(200);
        expect(await page.text()).not.toContain(demo.apiKey);
        const created = await fetch(`${first.url}/demo/api/sessions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ userName: 'Katherine Johnson', mode: 'hybrid' }),
        });
        const text = await created.text();
        expect(created.status, text).toBe(201);
        expect(text).not.toContain('sa_live_');
        const { sessionId } = JSON.parse(text);
        const detail = await fetch(`${first.url}/api/widget/sessions/${sessionId}`, { headers: { authorization: `Bearer ${demo.apiKey}` } });
        expect(detail.status).toBe(200);
        expect(await detail.json()).toMatchObject({ assessmentType: 'recording', externalAssessmentId: 'demo-quiz-1' });
      } finally {
        await first.close();
      }

      const second = await startNodeServer({ port: 0, host: '127.0.0.1', dataDir, logger: quiet, config: { adminToken: undefined }, faceEngine: { enabled: false } });
      try {
        expect(second.demo).toMatchObject({ origin: 'reused', printableKey: null, integrationId: demo.integrationId });
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
