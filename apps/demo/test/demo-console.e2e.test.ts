import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectConsoleErrors, launchBrowser, newCameraContext, switchTabAway } from '../../../packages/widget/test/support/browser.ts';
import { faceVideo, PERSON_A } from '../../../packages/widget/test/support/fixtures.ts';
import { startApiServer, type ApiServer } from '../../../packages/widget/test/support/servers.ts';

/**
 * The whole product as people use it (issue #5, "Tests"): one server with the real face engine, the demo
 * LMS it serves at /demo, the proctor console at /console, and headless Chromium whose fake camera shows
 * person A. A candidate signs up on the demo page and takes the exam through the widget; a proctor, in
 * another browser context (cookies of its own), signs in to the console with the demo integration's key,
 * finds that session, chats with the candidate, plays the recording and stops the exam. Nothing is
 * driven through the API that a person would do in a page; the API is only read to know when to look.
 *
 * The README's screenshots are taken on the way: always into a temporary directory, and into
 * docs/screenshots/ when SECUREACCESS_SCREENSHOTS=1 (so `npm test` leaves the work tree alone).
 *
 * The steps share one exam and run in order.
 */

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const WIDGET_BUNDLE = path.join(REPO, 'packages/widget/dist/secureaccess-widget.js');
const CONSOLE_BUNDLE = path.join(REPO, 'apps/console/dist/console.js');
const WRITE_SCREENSHOTS = process.env.SECUREACCESS_SCREENSHOTS === '1';
const SCREENSHOT_DIR = path.join(REPO, 'docs/screenshots');
/** What a committed screenshot may weigh at most. */
const MAX_SCREENSHOT_BYTES = 250 * 1024;

const CANDIDATE = 'Ada Lovelace';
const PROCTOR_MESSAGE = 'Hello Ada, please keep your face in view of the camera.';
const CANDIDATE_REPLY = 'Understood, thank you!';

/**
 * Hands to `window.__saStream` (see recordStreams) what the page's event streams carry — the console's
 * EventSource, the widget's fetch-based stream — as it arrives: Playwright cannot read the body of a
 * response that never ends, and the secrets check must cover those too. Installed before any page script.
 */
const STREAM_RECORDER = `(() => {
  const streams = { push: (text) => void window.__saStream?.(text) };
  const NativeEventSource = window.EventSource;
  if (NativeEventSource) {
    window.EventSource = class extends NativeEventSource {
      constructor(url, init) {
        super(url, init);
        for (const type of ['message', 'snapshot', 'status', 'score', 'violation', 'document']) {
          this.addEventListener(type, (event) => streams.push(type + ': ' + event.data));
        }
      }
    };
  }
  const nativeFetch = window.fetch.bind(window);
  window.fetch = async (...args) => {
    const response = await nativeFetch(...args);
    if ((response.headers.get('content-type') || '').includes('text/event-stream') && response.body) {
      const reader = response.clone().body.getReader();
      const decoder = new TextDecoder();
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          streams.push(decoder.decode(value, { stream: true }));
        }
      })().catch(() => undefined);
    }
    return response;
  };
})();`;

interface Bodies {
  /** `<status> <path>: <body as latin1>` of every finished response. */
  texts: string[];
  /** Reads still in flight. */
  pending: Promise<void>[];
}

/**
 * Collects the bodies of the responses `page` receives in full (whose path passes `filter`): event
 * streams never finish (see STREAM_RECORDER for those), nor does a media request the player left
 * paused. Bytes are kept as latin1 text: a secret is ASCII, so it shows in binary bodies as well.
 */
function collectBodies(page: Page, filter: (pathname: string) => boolean): Bodies {
  const bodies: Bodies = { texts: [], pending: [] };
  page.on('requestfinished', (request) => {
    const url = new URL(request.url());
    if (!url.protocol.startsWith('http') || !filter(url.pathname)) return;
    bodies.pending.push(
      (async () => {
        const response = await request.response();
        if (!response || (response.status() >= 300 && response.status() < 400)) return; // a redirect has no body to read
        const bytes = await response.body();
        bodies.texts.push(`${response.status()} ${url.pathname}: ${bytes.toString('latin1')}`);
      })().catch(() => undefined),
    );
  });
  return bodies;
}

/** What the event streams of the context's pages carry, across reloads (see STREAM_RECORDER). */
async function recordStreams(context: BrowserContext): Promise<string[]> {
  const streams: string[] = [];
  await context.exposeFunction('__saStream', (text: string) => void streams.push(text));
  await context.addInitScript(STREAM_RECORDER);
  return streams;
}

let api: ApiServer;
let browser: Browser;
let demoKey: string;
let shotsDir: string;

let candidateContext: BrowserContext;
let candidate: Page;
let candidateErrors: string[];
let candidateBodies: Bodies;
let candidateStreams: string[];
let proctorContext: BrowserContext;
let proctor: Page;
let proctorErrors: string[];
let proctorBodies: Bodies;
let proctorStreams: string[];
let sessionId: string;

beforeAll(async () => {
  for (const bundle of [WIDGET_BUNDLE, CONSOLE_BUNDLE]) {
    if (!existsSync(bundle)) throw new Error(`${path.relative(REPO, bundle)} is missing: run \`npm run build\` (npm test does) first.`);
  }
  const video = faceVideo(PERSON_A);
  api = await startApiServer();
  const stored = JSON.parse(await readFile(path.join(api.dataDir, 'demo-integration.json'), 'utf8')) as { integrationId: string; apiKey: string };
  demoKey = stored.apiKey;
  expect(demoKey).toMatch(/^sa_live_/);
  browser = await launchBrowser({ fakeVideo: await video });
  shotsDir = WRITE_SCREENSHOTS ? SCREENSHOT_DIR : await mkdtemp(path.join(tmpdir(), 'sa-screenshots-'));
  await mkdir(shotsDir, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
  if (shotsDir && !WRITE_SCREENSHOTS) await rm(shotsDir, { recursive: true, force: true });
});

// ------------------------------------------------------------------------------------------ helpers

function widgetAction(page: Page, name: string) {
  return page.locator(`[data-sa-action="${name}"]`);
}

function widgetRole(page: Page, name: string) {
  return page.locator(`[data-sa-role="${name}"]`);
}

function widgetScreen(page: Page, screen: string) {
  return page.locator(`[data-sa-screen="${screen}"]`);
}

/** The demo integration reads the session, as its LMS backend could (never from a page). */
async function sessionDetail(): Promise<any> {
  const res = await api.call('GET', `/api/widget/sessions/${sessionId}`, { token: demoKey });
  expect(res.status).toBe(200);
  return res.body;
}

/**
 * A PNG for the README: the page 1280 px wide, `height` px tall (default the 800 of the viewport; a
 * page whose point is further down is shot taller), kept under MAX_SCREENSHOT_BYTES.
 */
async function screenshot(page: Page, name: string, height = 800): Promise<void> {
  const file = path.join(shotsDir, name);
  const viewport = page.viewportSize()!;
  if (height !== viewport.height) await page.setViewportSize({ width: viewport.width, height });
  try {
    await page.screenshot({ path: file, type: 'png', caret: 'hide' });
  } finally {
    if (height !== viewport.height) await page.setViewportSize(viewport);
  }
  const size = statSync(file).size;
  expect(size, `${name} is ${Math.round(size / 1024)} kB`).toBeLessThan(MAX_SCREENSHOT_BYTES);
}

// ------------------------------------------------------------------------------------------ tests

describe('the demo exam watched, reviewed and stopped from the proctor console', () => {
  afterAll(async () => {
    await candidateContext?.close();
    await proctorContext?.close();
  });

  it('candidate: signs up on /demo, goes through consent, camera check and enrolment in the widget, starts the exam', async () => {
    candidateContext = await newCameraContext(browser, { origin: api.url });
    candidateStreams = await recordStreams(candidateContext);
    candidateContext.setDefaultTimeout(15_000);
    candidate = await candidateContext.newPage();
    candidateErrors = collectConsoleErrors(candidate);
    candidateBodies = collectBodies(candidate, () => true);

    await candidate.goto(`${api.url}/demo`);
    await candidate.getByLabel('Your name').fill(CANDIDATE);
    await candidate.getByRole('radio', { name: /Recording/ }).check();
    const created = candidate.waitForResponse((r) => new URL(r.url()).pathname === '/demo/api/sessions');
    await candidate.getByRole('button', { name: 'Create my exam session' }).click();
    const answer = await created;
    expect(answer.status()).toBe(201);
    sessionId = ((await answer.json()) as { sessionId: string }).sessionId;
    expect(sessionId).toMatch(/^ses_/);

    await widgetScreen(candidate, 'consent').waitFor();
    await widgetAction(candidate, 'consent-accept').click();
    await widgetAction(candidate, 'camera-continue').click();
    await widgetScreen(candidate, 'enroll').waitFor();
    await widgetAction(candidate, 'enroll-capture').click();
    await widgetAction(candidate, 'enroll-confirm').click();
    await widgetScreen(candidate, 'ready').waitFor({ timeout: 20_000 });
    await candidate.locator('#event-log li[data-event="onReady"]').waitFor();

    const start = candidate.getByRole('button', { name: 'Start exam' });
    await expect.poll(() => start.isEnabled()).toBe(true);
    await start.click();
    await candidate.locator('#quiz').waitFor({ state: 'visible' });
    await widgetScreen(candidate, 'exam').waitFor();
    expect(await candidate.getByRole('radio', { name: 'Mars' }).isEnabled()).toBe(true);
    await candidate.getByRole('radio', { name: 'Mars' }).check();
    expect(await sessionDetail()).toMatchObject({ status: 'in_progress', userName: CANDIDATE, enrollment: { status: 'enrolled', source: 'webcam' } });

    // Another visitor signs up after Ada but does not start: the live session must still be listed first.
    const other = await candidate.evaluate(async () => {
      const res = await fetch('/demo/api/sessions', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ userName: 'Grace Hopper', mode: 'hybrid' }) });
      return res.status;
    });
    expect(other).toBe(201);
  }, 60_000);

  it('proctor: no cookie → sign-in; a wrong key is refused clearly; the demo key signs in and lists the live session first', async () => {
    proctorContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    proctorStreams = await recordStreams(proctorContext);
    proctorContext.setDefaultTimeout(15_000);
    proctor = await proctorContext.newPage();
    proctorErrors = collectConsoleErrors(proctor);
    proctorBodies = collectBodies(proctor, (p) => p.startsWith('/api/'));

    await proctor.goto(`${api.url}/console/sessions`);
    const signin = new URL(proctor.url());
    expect(signin.pathname).toBe('/console/signin');
    expect(signin.searchParams.get('next')).toBe('/console/sessions');

    const keyField = proctor.getByLabel('API key');
    await keyField.fill('sa_live_0123456789abcdefnotarealkey');
    await proctor.getByRole('button', { name: 'Sign in' }).click();
    const error = proctor.getByTestId('signin-error');
    await error.waitFor();
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await error.textContent()).toMatch(/not valid/i);
    expect(await keyField.inputValue()).toBe('');
    expect(new URL(proctor.url()).pathname).toBe('/console/signin');

    await keyField.fill(demoKey);
    await proctor.getByRole('button', { name: 'Sign in' }).click();
    await proctor.waitForURL('**/console/sessions');
    await expect.poll(() => proctor.getByTestId('integration-name').textContent()).toBe('Demo LMS');
    const rows = proctor.getByTestId('session-row');
    await expect.poll(() => rows.count()).toBe(2);
    const first = rows.first();
    expect(await first.getAttribute('data-session-id')).toBe(sessionId);
    expect(await first.getByTestId('session-status').textContent()).toBe('in progress');
    expect(await first.textContent()).toContain(CANDIDATE);
    expect(await rows.nth(1).getByTestId('session-status').textContent()).toBe('created');
    // The key was only in the sign-in request: the browser keeps none of it.
    expect(await proctor.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie])).toEqual([0, 0, '']);
    await screenshot(proctor, 'console-sessions.png');

    await first.getByRole('link', { name: CANDIDATE }).click();
    await proctor.waitForURL(`**/console/sessions/${sessionId}`);
    expect(await proctor.getByTestId('session-title').textContent()).toBe(CANDIDATE);
    await proctor.locator('[data-testid="live-state"][data-state="open"]').waitFor();
  }, 30_000);

  it('messages: the proctor writes from the console, the candidate reads it in the widget and replies, and the console shows the reply live', async () => {
    await proctor.getByTestId('message-input').fill(PROCTOR_MESSAGE);
    await proctor.getByTestId('message-send').click();
    await widgetRole(candidate, 'messages').getByText(PROCTOR_MESSAGE).waitFor({ timeout: 10_000 });

    await widgetRole(candidate, 'message-input').fill(CANDIDATE_REPLY);
    await widgetAction(candidate, 'message-send').click();
    const reply = proctor.getByTestId('messages-list').locator('[data-testid="message"][data-role="candidate"]');
    await reply.getByText(CANDIDATE_REPLY).waitFor({ timeout: 10_000 });
    expect(await proctor.getByTestId('message').count()).toBe(2);
    // Writing to the proctor is not cheating.
    expect(await candidate.locator('#event-log li[data-event="onCheatingDetected"]').count()).toBe(0);
  }, 30_000);

  it('a tab switch is flagged live; once a segment is uploaded the recording plays in the console', async () => {
    await switchTabAway(candidate, 1200);
    await candidate.locator('#event-log li[data-event="onCheatingDetected"]').filter({ hasText: 'tab_switch' }).waitFor();
    await expect.poll(() => proctor.getByTestId('violation-flag').count(), { timeout: 10_000 }).toBe(1);
    await candidate.getByRole('radio', { name: 'Au', exact: true }).check();
    await screenshot(candidate, 'demo-exam.png', 1000);

    // The widget records 10-second segments; the first arrives ~10 s after the start.
    await expect
      .poll(async () => (await api.call('GET', `/api/widget/sessions/${sessionId}/recording`, { token: demoKey })).body.segments.length, { timeout: 25_000, interval: 500 })
      .toBeGreaterThan(0);
    // The console looks for new footage every 20 s; a proctor who does not want to wait reloads.
    await proctor.reload();
    await proctor.locator('[data-testid="live-state"][data-state="open"]').waitFor();
    const video = proctor.getByTestId('recording-player');
    // A MediaRecorder WebM declares no duration (Chrome says Infinity); the player finds the real one.
    await expect.poll(() => video.evaluate((v) => (v as HTMLVideoElement).duration), { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => video.evaluate((v) => Number.isFinite((v as HTMLVideoElement).duration))).toBe(true);
    const duration = await video.evaluate((v) => (v as HTMLVideoElement).duration);
    expect(duration).toBeGreaterThan(1);
    expect(duration).toBeLessThan(12);
    expect(await video.evaluate((v) => (v as HTMLVideoElement).currentTime)).toBe(0);
    // The flag seeks the recording to the tab switch.
    const flag = proctor.getByTestId('violation-flag').first();
    const flagOffset = Number(await flag.getAttribute('data-offset-ms'));
    await flag.click();
    await expect.poll(async () => Math.abs(Number(await video.getAttribute('data-session-offset-ms')) - flagOffset)).toBeLessThan(1000);
    // The frame is shown (no loading spinner in the screenshot).
    await expect.poll(() => video.evaluate((v) => !(v as HTMLVideoElement).seeking && (v as HTMLVideoElement).readyState >= 2)).toBe(true);
    await proctor.waitForTimeout(1000); // the controls' spinner ends its turn before it hides
    expect(await proctor.getByTestId('score-chart').isVisible()).toBe(true);
    // Tall enough for the score chart, cut below its panel.
    const chartBottom = await proctor.getByTestId('score-chart').evaluate((el) => (el.closest('section') ?? el).getBoundingClientRect().bottom + window.scrollY);
    await screenshot(proctor, 'console-session.png', Math.ceil(chartBottom) + 16);
  }, 45_000);

  it('stop from the console: the widget reports onAssessmentComplete {status: "stopped", stopReason: "proctor"}, shows it, and the quiz closes', async () => {
    await proctor.getByTestId('stop-session').click();
    await proctor.getByTestId('stop-reason-input').fill('Ending the demo');
    await proctor.getByTestId('dialog-confirm').click();
    await proctor.getByTestId('action-status').filter({ hasText: 'Session stopped.' }).waitFor();

    const complete = candidate.locator('#event-log li[data-event="onAssessmentComplete"]');
    await complete.waitFor({ timeout: 15_000 });
    const result = JSON.parse((await complete.locator('code').textContent()) ?? 'null') as { status: string; stopReason?: string };
    expect(result).toMatchObject({ status: 'stopped', stopReason: 'proctor' });
    await widgetScreen(candidate, 'stopped').waitFor();
    expect(await candidate.getByRole('button', { name: 'Submit', exact: true }).isDisabled()).toBe(true);
    expect(await candidate.getByRole('radio', { name: 'Mars' }).isDisabled()).toBe(true);
    expect(await candidate.locator('#result-status').textContent()).toBe('Stopped');

    await proctor.locator('[data-testid="session-summary"] [data-testid="session-status"][data-status="stopped"]').waitFor();
    expect(await sessionDetail()).toMatchObject({ status: 'stopped', stopReason: 'proctor' });
  }, 30_000);

  it('secrets: no API key, webhook secret, session token or console cookie in anything the console received; no API key on the candidate page', async () => {
    const cookie = (await proctorContext.cookies()).find((c) => c.name === 'sa_console');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.value.length).toBeGreaterThan(20);
    await Promise.all(proctorBodies.pending);
    await Promise.all(candidateBodies.pending);

    // What was looked at is what this test did: the list, the session, its recording, messages, the stream.
    const paths = proctorBodies.texts.map((t) => t.slice(0, t.indexOf(':')));
    expect(paths).toEqual(expect.arrayContaining(['200 /api/widget/sessions', `200 /api/widget/sessions/${sessionId}`, `200 /api/widget/sessions/${sessionId}/recording`]));
    expect(proctorStreams.some((s) => s.startsWith('message: ') || s.includes(CANDIDATE_REPLY))).toBe(true);
    expect(candidateStreams.join('')).toContain(PROCTOR_MESSAGE);

    for (const text of [...proctorBodies.texts, ...proctorStreams]) {
      expect(text).not.toContain(demoKey);
      expect(text).not.toContain('whsec_');
      expect(text).not.toContain('sa_sess_');
      expect(text).not.toContain(cookie!.value);
    }
    expect(candidateBodies.texts.length).toBeGreaterThan(10);
    for (const text of [...candidateBodies.texts, ...candidateStreams]) expect(text).not.toContain(demoKey);

    // Nothing went wrong in either page along the way (Chromium logs the refused sign-in's 401 as an error).
    expect(proctorErrors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    expect(candidateErrors).toEqual([]);
  }, 30_000);
});
