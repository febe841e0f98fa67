import { createHash } from 'node:crypto';
import path from 'node:path';
import type { SessionDetail, SessionRecording, Violation } from '@secureaccess/protocol';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STRINGS } from '../src/strings.ts';
import type { AssessmentResult, CheatingEvent, SecureAccessWidget, WidgetState } from '../src/widget.ts';
import { blurByAnotherPage, collectConsoleErrors, disableFocusEmulation, launchBrowser, newCameraContext, switchTabAway } from './support/browser.ts';
import { blankVideo, enrolmentJpeg, FACES_DIR, faceVideo, ffprobeDecodes, ffprobeDuration, PERSON_A, PERSON_B } from './support/fixtures.ts';
import { startApiServer, startLmsServer, waitForWidgetEvent, widgetEvents, type ApiServer, type CreatedSession, type LmsServer, type WidgetEvent } from './support/servers.ts';

/**
 * The widget end to end (issue #4, "Tests"): real headless Chromium whose fake camera plays a photo (or an
 * empty room), the real API with the real face engine on one origin, the exam page of a test LMS on
 * another. What is asserted is what the candidate and the LMS would notice: the callbacks and their
 * payloads, the screen the widget shows (`data-sa-screen`, `data-sa-role`, `data-sa-action`), and the
 * session, violations and recording the LMS reads from the API with its API key.
 *
 * The first describe block is one candidate's exam from consent to the recording; its tests run in order
 * on the same page. The other scenarios each have a session (and a page) of their own.
 */

/** A photo without a face, uploaded at enrollment (a hard-enough negative: a rocket on its pad). */
const NO_FACE_PHOTO = path.join(FACES_DIR, 'noface/skimage_rocket.jpg');

/** Records every value the widget's `data-sa-screen` takes, from the very first one (installed before page scripts; survives reloads). */
const SCREEN_RECORDER = `(() => {
  const olds = [];
  let frame = null;
  const original = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = original.call(this, init);
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === 'attributes') olds.push(r.oldValue);
        else frame = root.querySelector('[data-sa-screen]');
      }
    }).observe(root, { subtree: true, childList: true, attributes: true, attributeOldValue: true, attributeFilter: ['data-sa-screen'] });
    return root;
  };
  window.__saScreens = () => {
    const all = [...olds, frame ? frame.getAttribute('data-sa-screen') : null].filter(Boolean);
    return all.filter((s, i) => s !== all[i - 1]);
  };
})();`;

/**
 * A slow laptop: hashing a segment (crypto.subtle.digest, which the widget does before storing and
 * uploading each one) takes 600 ms more. The last segment is then still being stored when
 * completeAssessment() stops the recorder — it must be waited for, not left behind.
 */
const SLOW_DIGEST = `(() => {
  if (!crypto.subtle) return; // a frame that is not a secure context (the embedded data: iframe)
  const digest = crypto.subtle.digest.bind(crypto.subtle);
  crypto.subtle.digest = (algorithm, data) => new Promise((resolve) => setTimeout(resolve, 600)).then(() => digest(algorithm, data));
})();`;

interface Exam {
  context: BrowserContext;
  page: Page;
  errors: string[];
  session: CreatedSession;
}

let api: ApiServer;
let lms: LmsServer;
let apiKey: string;
/** The fake camera shows person A (the enrolled candidate). */
let browserA: Browser;
const extraBrowsers: Browser[] = [];

beforeAll(async () => {
  const video = faceVideo(PERSON_A);
  api = await startApiServer();
  lms = await startLmsServer(api.url);
  apiKey = await api.apiKey();
  browserA = await launchBrowser({ fakeVideo: await video });
}, 120_000);

afterAll(async () => {
  for (const b of [browserA, ...extraBrowsers]) await b?.close().catch(() => undefined);
  await lms?.close();
  await api?.close();
});

// ------------------------------------------------------------------------------------------ helpers

/** A session as the LMS creates it (fullscreen off: it needs a user gesture), optionally enrolled from the LMS side, and its exam page. */
async function openExam(
  browser: Browser,
  options: { config?: Record<string, unknown>; widget?: Record<string, unknown>; enrolled?: boolean; initScript?: string } = {},
): Promise<Exam> {
  const session = await api.createSession({ config: { requireFullscreen: false, ...options.config } });
  if (options.enrolled) await enrollByApi(session.sessionToken);
  const context = await newCameraContext(browser);
  const page = await context.newPage();
  await page.addInitScript(SCREEN_RECORDER);
  if (options.initScript) await page.addInitScript(options.initScript);
  const errors = collectConsoleErrors(page);
  await page.goto(lms.examUrl(session.sessionToken, { recordingSegmentSeconds: 3, presenceBatchSeconds: 1, ...options.widget }));
  expect(await page.evaluate(() => ({ loaded: window.__sa.scriptLoaded, error: window.__sa.constructError ?? null }))).toEqual({ loaded: true, error: null });
  return { context, page, errors, session };
}

/** Enrolls person A through the API (the widget then skips its enrollment screen). */
async function enrollByApi(sessionToken: string): Promise<void> {
  const res = await api.call('POST', '/api/widget/session/face-enroll', {
    token: sessionToken,
    body: { imageBase64: enrolmentJpeg().toString('base64'), source: 'upload' },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

function action(page: Page, name: string) {
  return page.locator(`[data-sa-action="${name}"]`);
}

function role(page: Page, name: string) {
  return page.locator(`[data-sa-role="${name}"]`);
}

async function waitForScreen(page: Page, screen: string, timeout = 15_000): Promise<void> {
  await page.locator(`[data-sa-screen="${screen}"]`).waitFor({ timeout });
}

function screensSeen(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __saScreens: () => string[] }).__saScreens());
}

function widgetState(page: Page): Promise<WidgetState> {
  return page.evaluate(() => (window.__widget as unknown as SecureAccessWidget).state);
}

function widgetMetrics(page: Page): Promise<SecureAccessWidget['metrics']> {
  return page.evaluate(() => (window.__widget as unknown as SecureAccessWidget).metrics);
}

/** Starts init() without waiting for it (it resolves only once the candidate went through the screens). */
function beginInit(page: Page): Promise<void> {
  const init = page.evaluate(() => window.__widget!.init());
  init.catch(() => undefined);
  return init;
}

/** init() with consent and camera check clicked through (the face is already enrolled). */
async function initThroughUi(page: Page): Promise<void> {
  const init = beginInit(page);
  await action(page, 'consent-accept').click();
  await action(page, 'camera-continue').click();
  await init;
}

/** startAssessment(); resolves to the page's clock when it returned (recording starts then). */
function start(page: Page): Promise<number> {
  return page.evaluate(async () => {
    await window.__widget!.startAssessment();
    return Date.now();
  });
}

/** completeAssessment(); resolves to its result and the page's clock when it was called. */
function complete(page: Page): Promise<{ calledAt: number; result: AssessmentResult }> {
  return page.evaluate(async () => {
    const calledAt = Date.now();
    const result = (await window.__widget!.completeAssessment()) as unknown as AssessmentResult;
    return { calledAt, result };
  });
}

async function detail(sessionId: string): Promise<SessionDetail> {
  const res = await api.call<SessionDetail>('GET', `/api/widget/sessions/${sessionId}`, { token: apiKey });
  expect(res.status).toBe(200);
  return res.body;
}

async function violationsOf(sessionId: string, type?: string): Promise<Violation[]> {
  return (await detail(sessionId)).violations.filter((v) => type === undefined || v.type === type);
}

async function recordingOf(sessionId: string): Promise<SessionRecording> {
  const res = await api.call<SessionRecording>('GET', `/api/widget/sessions/${sessionId}/recording`, { token: apiKey });
  expect(res.status).toBe(200);
  return res.body;
}

async function download(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const res = await fetch(api.url + url, { headers: { authorization: `Bearer ${apiKey}`, ...headers } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

function cheating(events: WidgetEvent[]): CheatingEvent[] {
  return events.filter((e) => e.type === 'cheatingDetected').map((e) => e.data as CheatingEvent);
}

async function waitFor<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, timeout = 20_000): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`waitFor: ${what} not reached within ${timeout} ms; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Console errors that are not expected noise (failed loads of requests a test aborted on purpose). */
function unexpected(errors: string[]): string[] {
  return errors.filter((e) => !/Failed to load resource|net::ERR_/.test(e));
}

/** Every record of one of the widget's IndexedDB object stores ([] when the store does not exist yet). */
function storedRecords<T>(page: Page, storeName: 'segments' | 'presence'): Promise<T[]> {
  return page.evaluate(
    (name) =>
      new Promise<T[]>((resolve, reject) => {
        const open = indexedDB.open('secureaccess-widget');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains(name)) {
            db.close();
            resolve([]);
            return;
          }
          const get = db.transaction(name, 'readonly').objectStore(name).getAll();
          get.onsuccess = () => {
            db.close();
            resolve(get.result as T[]);
          };
          get.onerror = () => reject(get.error);
        };
      }),
    storeName,
  );
}

/** The sequences of a session's recording segments kept in the browser. */
async function storedSequences(page: Page, sessionId: string): Promise<number[]> {
  const segments = await storedRecords<{ sessionId: string; sequence: number }>(page, 'segments');
  return segments.filter((s) => s.sessionId === sessionId).map((s) => s.sequence).sort((a, b) => a - b);
}

/** The presence samples the widget keeps for a session (not yet taken by the server), oldest first. */
async function storedPresence(page: Page, sessionId: string): Promise<{ at: string; faces: number }[]> {
  const chunks = await storedRecords<{ sessionId: string; samples: { at: string; faces: number }[] }>(page, 'presence');
  return chunks
    .filter((c) => c.sessionId === sessionId)
    .flatMap((c) => c.samples)
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

function uploadSequence(request: Request): number | null {
  const url = new URL(request.url());
  if (request.method() !== 'POST' || url.pathname !== '/api/widget/session/recording/segments') return null;
  return Number(url.searchParams.get('sequence'));
}

// ------------------------------------------------------------------------------------------ tests

describe("one candidate's exam: consent, enrollment, monitoring, completion and its recording", () => {
  let exam: Exam;
  let startedAt = 0;

  afterAll(async () => {
    await exam?.context.close();
  });

  it('init → consent recorded, camera check, enrollment through the UI with a refused photo and a retry, onReady; start', async () => {
    exam = await openExam(browserA, { initScript: SLOW_DIGEST });
    const { page, session } = exam;
    const init = beginInit(page);

    await waitForScreen(page, 'consent');
    await expect(role(page, 'consent-text').textContent()).resolves.toBe(DEFAULT_STRINGS.consentText);
    expect((await detail(session.sessionId)).consentAt).toBeNull();
    await action(page, 'consent-accept').click();

    await waitForScreen(page, 'camera');
    await action(page, 'camera-continue').waitFor();
    const consented = await detail(session.sessionId);
    expect(consented.consentAt).not.toBeNull();
    expect(Date.parse(consented.consentAt!)).toBeGreaterThan(Date.now() - 60_000);
    await action(page, 'camera-continue').click();

    // A photo without a face: the server's verdict in plain words, and the candidate can try again.
    await waitForScreen(page, 'enroll');
    await action(page, 'enroll-upload').setInputFiles(NO_FACE_PHOTO);
    await action(page, 'enroll-confirm').click();
    const refusal = `${DEFAULT_STRINGS.enrollRefused.replace('{reason}', DEFAULT_STRINGS.reason_no_face)}`;
    await expect.poll(() => role(page, 'enroll-status').textContent(), { timeout: 20_000 }).toBe(refusal);
    expect(await action(page, 'enroll-confirm').count()).toBe(0);
    await action(page, 'enroll-capture').waitFor();
    expect((await detail(session.sessionId)).enrollment.status).not.toBe('enrolled');
    expect(await widgetEvents(page)).toEqual([]);

    // The webcam photo of person A is accepted.
    await action(page, 'enroll-capture').click();
    await action(page, 'enroll-confirm').click();
    await init;
    await waitForScreen(page, 'ready');
    expect(await widgetState(page)).toBe('ready');
    const events = await widgetEvents(page);
    expect(events.map((e) => e.type)).toEqual(['ready']);
    const enrolled = await detail(session.sessionId);
    expect(enrolled.enrollment).toMatchObject({ status: 'enrolled', source: 'webcam' });
    expect(enrolled.status).toBe('created');
    expect(await screensSeen(page)).toEqual(['loading', 'consent', 'camera', 'enroll', 'ready']);

    startedAt = await start(page);
    await waitForScreen(page, 'exam');
    expect(await widgetState(page)).toBe('in_progress');
    expect((await detail(session.sessionId)).status).toBe('in_progress');
    await expect(role(page, 'connection').textContent()).resolves.toBe(DEFAULT_STRINGS.connectionOnline);
    await expect.poll(() => role(page, 'recording').textContent()).toContain(DEFAULT_STRINGS.recordingOn);
    // The score is shown and reported.
    const scored = await waitForWidgetEvent(page, 'authScoreUpdate');
    expect(scored.data).toEqual({ overall: expect.any(Number), identity: expect.any(Number), presence: expect.any(Number), behavioral: expect.any(Number) });
    await expect(role(page, 'score').textContent()).resolves.toMatch(/^\d+\.\d$/);
  }, 90_000);

  it('a tab switch reaches the server once even when the widget retries; focus in an embedded iframe is no blur, a real window blur is; copy/paste in the page but not in the widget', async () => {
    const { page, session } = exam;

    // The first report reaches the server but its answer is lost: the widget retries with the same id.
    const posted: string[] = [];
    const answers: number[] = [];
    await page.route(`${api.url}/api/widget/session/violation`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      posted.push(route.request().postData() ?? '');
      const response = await route.fetch();
      if (posted.length === 1) return route.abort('connectionreset');
      answers.push(response.status());
      return route.fulfill({ response });
    });
    await switchTabAway(page, 300);
    const tab = await waitForWidgetEvent(page, 'cheatingDetected', { where: (e) => e.data.type === 'tab_switch' });
    expect(tab.data).toMatchObject({ type: 'tab_switch', severity: 'medium', category: 'behavioral', source: 'client', message: DEFAULT_STRINGS.warn_tab_switch });
    expect(tab.data.id).toMatch(/^evt_/);
    await expect(role(page, 'warning').textContent()).resolves.toBe(DEFAULT_STRINGS.warn_tab_switch);
    await waitFor('the retried report answered', async () => answers, (a) => a.length >= 1, 15_000);
    await page.unroute(`${api.url}/api/widget/session/violation`);
    expect(answers[0]).toBe(200); // a duplicate, not a new violation
    expect(posted.map((p) => JSON.parse(p).id)).toEqual(posted.map(() => tab.data.id));
    const tabs = await violationsOf(session.sessionId, 'tab_switch');
    expect(tabs).toHaveLength(1);
    expect(tabs[0]).toMatchObject({ type: 'tab_switch', severity: 'medium', source: 'client' });

    await disableFocusEmulation(page);
    // Focus moving into an iframe of the host page (embedded exam content, here of an opaque origin)
    // blurs the window but does not leave the exam: no window_blur.
    await page.evaluate(
      (src) =>
        new Promise<void>((resolve) => {
          const frame = document.createElement('iframe');
          frame.id = 'embedded-content';
          frame.style.cssText = 'position: fixed; top: 0; left: 0; width: 320px; height: 200px; z-index: 2147483647; background: white';
          frame.onload = () => resolve();
          frame.src = src;
          document.body.append(frame);
        }),
      'data:text/html,<p>Embedded content</p><input aria-label="Notes">',
    );
    await page.locator('#embedded-content').click();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('embedded-content');
    await page.waitForTimeout(1000);
    expect(cheating(await widgetEvents(page)).filter((v) => v.type === 'window_blur')).toEqual([]);
    await page.evaluate(() => document.getElementById('embedded-content')!.remove());
    await page.mouse.click(5, 5); // focus back on the page itself
    expect(await page.evaluate(() => document.hasFocus())).toBe(true);

    // A real blur: another window comes to the front while the exam tab stays visible.
    const away = await blurByAnotherPage(page);
    const blur = await waitForWidgetEvent(page, 'cheatingDetected', { where: (e) => e.data.type === 'window_blur' });
    await away.back();
    expect(blur.data).toMatchObject({ type: 'window_blur', severity: 'low', category: 'behavioral', source: 'client' });
    await waitFor('window_blur on the server', () => violationsOf(session.sessionId, 'window_blur'), (v) => v.length === 1);

    // Typing, copying and pasting in the widget's own message box is not cheating (the keys do copy and paste).
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { clipboardEvents: string[] }).clipboardEvents = seen;
      for (const type of ['copy', 'paste']) document.addEventListener(type, () => seen.push(type), true);
    });
    const clipboardEvents = () => page.evaluate(() => (window as unknown as { clipboardEvents: string[] }).clipboardEvents);
    const box = role(page, 'message-input');
    await box.fill('Is a calculator allowed?');
    await box.press('Control+A');
    await box.press('Control+C');
    await box.press('Control+V');
    expect(await clipboardEvents()).toEqual(['copy', 'paste']);
    expect(await box.inputValue()).toBe('Is a calculator allowed?');
    await box.press('Enter');
    await waitFor('the message on the server', async () => (await detail(session.sessionId)).messagesCount, (n) => n === 1);
    await expect.poll(() => page.locator('[data-sa-role=messages] [data-sa-message]').count()).toBe(1);
    expect(cheating(await widgetEvents(page)).filter((v) => v.type === 'copy_paste')).toEqual([]);

    // In the host page it is.
    const answer = page.locator('#answer');
    await answer.fill('42');
    await answer.press('Control+A');
    await answer.press('Control+C');
    await answer.press('Control+V');
    expect(await clipboardEvents()).toEqual(['copy', 'paste', 'copy', 'paste']);
    const copies = await waitFor(
      'copy and paste reported',
      async () => cheating(await widgetEvents(page)).filter((v) => v.type === 'copy_paste'),
      (v) => v.length === 2,
      5000,
    );
    expect(copies.map((v) => v.details?.action)).toEqual(['copy', 'paste']);
    for (const v of copies) expect(v).toMatchObject({ severity: 'medium', category: 'behavioral', source: 'client' });
    await waitFor('copy_paste on the server', () => violationsOf(session.sessionId, 'copy_paste'), (v) => v.length === 2);
    expect((await violationsOf(session.sessionId)).map((v) => v.type).sort()).toEqual(['copy_paste', 'copy_paste', 'tab_switch', 'window_blur']);
  }, 60_000);

  it('completes: every segment on the server plays on its own, the total lasts as long as the exam, ranges work', async () => {
    const { page, session, errors } = exam;
    // An exam of at least 10 s: several segments.
    const now = await page.evaluate(() => Date.now());
    await page.waitForTimeout(Math.max(0, startedAt + 10_000 - now));
    const { calledAt, result } = await complete(page);
    const examMs = calledAt - startedAt;
    expect(result).toMatchObject({ status: 'completed', authScore: expect.any(Number) });
    expect(result.stopReason).toBeUndefined();
    await waitForScreen(page, 'completed');
    // The upload progress was shown before the end.
    expect((await screensSeen(page)).slice(-3)).toEqual(['exam', 'completing', 'completed']);
    const done = (await widgetEvents(page)).filter((e) => e.type === 'assessmentComplete');
    expect(done.map((e) => e.data)).toEqual([result]);
    const final = await detail(session.sessionId);
    expect(final.status).toBe('completed');
    expect(final.scores.overall).toBe(result.authScore);

    const recording = await recordingOf(session.sessionId);
    const sequences = recording.segments.map((s) => s.sequence);
    expect(sequences).toEqual(range(sequences.length));
    expect(sequences.length).toBeGreaterThanOrEqual(Math.floor(examMs / 3000));
    let probed = 0;
    for (const segment of recording.segments) {
      const file = await download(segment.url);
      expect(file.status).toBe(200);
      expect(file.bytes.length).toBe(segment.bytes);
      expect(createHash('sha256').update(file.bytes).digest('hex')).toBe(segment.sha256);
      expect(await ffprobeDecodes(file.bytes), `segment ${segment.sequence} decodes alone`).toBe(true);
      probed += await ffprobeDuration(file.bytes);
    }
    expect(Math.abs(probed * 1000 - examMs) / examMs, `ffprobe ${probed.toFixed(2)} s vs exam ${examMs} ms`).toBeLessThan(0.1);
    expect(Math.abs(recording.totalDurationMs - examMs) / examMs, `server ${recording.totalDurationMs} ms vs exam ${examMs} ms`).toBeLessThan(0.1);
    expect(final.recording).toEqual({ segments: sequences.length, totalDurationMs: recording.totalDurationMs });
    // Everything up to the call is there, the last (partial) segment included, and nothing is left in the browser.
    const last = recording.segments[recording.segments.length - 1]!;
    expect(Math.abs(Date.parse(last.startedAt) + last.durationMs - calledAt)).toBeLessThan(1000);
    expect(await storedSequences(page, session.sessionId)).toEqual([]);

    const first = recording.segments[0]!;
    const part = await download(first.url, { range: 'bytes=0-99' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-99/${first.bytes}`);
    expect(part.bytes.length).toBe(100);
    expect(unexpected(errors)).toEqual([]);
  }, 60_000);
});

describe('what the server decides from the camera', () => {
  it('an empty room: face-absence violations on the server and onCheatingDetected from the server', async () => {
    const browser = await launchBrowser({ fakeVideo: await blankVideo() });
    extraBrowsers.push(browser);
    const { context, page, session } = await openExam(browser, {
      enrolled: true,
      config: { faceAbsentBriefSeconds: 1, faceAbsentExtendedSeconds: 4 },
    });
    try {
      await initThroughUi(page);
      expect(await screensSeen(page)).not.toContain('enroll');
      await start(page);
      const absent = await waitForWidgetEvent(page, 'cheatingDetected', { where: (e) => e.data.type === 'face_absent_extended', timeout: 30_000 });
      expect(absent.data).toMatchObject({ type: 'face_absent_extended', severity: 'high', category: 'presence', source: 'server', message: DEFAULT_STRINGS.warn_face_absent_extended });
      expect(absent.data.durationMs).toBeGreaterThanOrEqual(4000);
      await expect(role(page, 'warning').textContent()).resolves.toBe(DEFAULT_STRINGS.warn_face_absent_extended);
      const onServer = await violationsOf(session.sessionId, 'face_absent_extended');
      expect(onServer).toHaveLength(1);
      expect(onServer[0]).toMatchObject({ id: absent.data.id, source: 'server', severity: 'high' });
      expect((await detail(session.sessionId)).scores.presence).toBeLessThan(50);
      // Announced once, although both the presence answer and the live stream carry it.
      await page.waitForTimeout(1500);
      expect(cheating(await widgetEvents(page)).filter((v) => v.type === 'face_absent_extended')).toHaveLength(1);
      expect(await widgetMetrics(page)).toMatchObject({ detectorBackend: expect.any(String) });
    } finally {
      await context.close();
    }
  }, 60_000);

  it('the camera going away: camera_lost on the server, a banner whose button reconnects, and the recording goes on', async () => {
    const { context, page, session } = await openExam(browserA, { enrolled: true, widget: { recordingSegmentSeconds: 2 } });
    try {
      await initThroughUi(page);
      await start(page);
      await waitFor('a first segment uploaded', () => recordingOf(session.sessionId), (r) => r.segments.length >= 1);
      // Chromium fires `ended` on a track whose camera goes away (unplugged, taken by another
      // application, permission revoked). A test cannot make a fake-device track end (stop() fires no
      // event, and revoking the permission leaves the track live), so the event Chromium would fire is
      // dispatched on the widget's live track.
      await page.evaluate(() => {
        const video = document.getElementById('proctoring-widget')!.shadowRoot!.querySelector('video')!;
        (video.srcObject as MediaStream).getVideoTracks()[0]!.dispatchEvent(new Event('ended'));
      });
      const lost = await waitForWidgetEvent(page, 'cheatingDetected', { where: (e) => e.data.type === 'camera_lost' });
      expect(lost.data).toMatchObject({ type: 'camera_lost', severity: 'high', category: 'presence', source: 'client', message: DEFAULT_STRINGS.warn_camera_lost });
      await expect(page.locator('[data-sa-banner=camera]').textContent()).resolves.toContain(DEFAULT_STRINGS.cameraLost);
      const onServer = await waitFor('camera_lost on the server', () => violationsOf(session.sessionId, 'camera_lost'), (v) => v.length === 1);
      expect(onServer[0]).toMatchObject({ severity: 'high', category: 'presence', source: 'client' });
      expect(Date.parse(onServer[0]!.occurredAt)).toBe(Date.parse(lost.data.occurredAt));

      const before = (await recordingOf(session.sessionId)).segments.length;
      await page.locator('[data-sa-banner=camera] [data-sa-action=camera-retry]').click();
      await expect.poll(() => page.locator('[data-sa-banner=camera]').count(), { timeout: 10_000 }).toBe(0);
      await waitFor('new segments after the reconnect', () => recordingOf(session.sessionId), (r) => r.segments.length >= before + 2, 20_000);
      expect(await widgetState(page)).toBe('in_progress');

      expect((await complete(page)).result.status).toBe('completed');
      const recording = await recordingOf(session.sessionId);
      expect(recording.segments.map((s) => s.sequence)).toEqual(range(recording.segments.length));
      for (const segment of recording.segments.slice(-2)) expect(await ffprobeDecodes((await download(segment.url)).bytes)).toBe(true);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('person A enrolled, person B on camera: identity_mismatch stops the exam, onAssessmentComplete(stopped)', async () => {
    const browser = await launchBrowser({ fakeVideo: await faceVideo(PERSON_B) });
    extraBrowsers.push(browser);
    const { context, page, session } = await openExam(browser, { enrolled: true });
    try {
      await initThroughUi(page);
      await start(page);
      const done = await waitForWidgetEvent(page, 'assessmentComplete', { timeout: 30_000 });
      expect(done.data).toEqual({ status: 'stopped', stopReason: 'auto:critical', authScore: expect.any(Number), scores: expect.any(Object) });
      const mismatch = cheating(await widgetEvents(page)).filter((v) => v.type === 'identity_mismatch');
      expect(mismatch).toHaveLength(1);
      expect(mismatch[0]).toMatchObject({ severity: 'critical', category: 'identity', source: 'server' });
      await waitForScreen(page, 'stopped');
      await expect(role(page, 'ended-text').textContent()).resolves.toBe(DEFAULT_STRINGS.stoppedText.replace('{reason}', DEFAULT_STRINGS.stop_auto));
      expect(await widgetState(page)).toBe('stopped');
      const server = await detail(session.sessionId);
      expect(server).toMatchObject({ status: 'stopped', stopReason: 'auto:critical' });
      expect(server.violations.filter((v) => v.type === 'identity_mismatch')).toMatchObject([{ source: 'server', severity: 'critical' }]);
      expect(done.data.authScore).toBe(server.scores.overall);
      // Ended is ended: completing now answers the same result, and the callback does not fire again.
      expect((await complete(page)).result).toEqual(done.data);
      expect((await widgetEvents(page)).filter((e) => e.type === 'assessmentComplete')).toHaveLength(1);
    } finally {
      await context.close();
    }
  }, 60_000);
});

describe('evidence survives the network and the page', () => {
  it('20 s offline (route abort): the candidate is told, then no violation and no segment is lost', async () => {
    const { context, page, session } = await openExam(browserA, { enrolled: true, widget: { recordingSegmentSeconds: 2 } });
    try {
      await initThroughUi(page);
      const startedAt = await start(page);
      // The detector is loaded from the API too: let it load before the network goes.
      await waitFor('the detector running', () => widgetMetrics(page), (m) => m.framesChecked > 0, 20_000);
      await waitFor('a first segment uploaded', () => recordingOf(session.sessionId), (r) => r.segments.length >= 1);

      const isApi = (url: URL) => url.origin === api.url;
      await page.route(isApi, (route) => route.abort('internetdisconnected'));
      const offlineAt = Date.now();
      await expect.poll(() => role(page, 'connection').textContent(), { timeout: 10_000 }).toBe(DEFAULT_STRINGS.connectionOffline);
      expect(await page.locator('[data-sa-banner=offline]').count()).toBe(1);
      await switchTabAway(page, 300);
      const tab = await waitForWidgetEvent(page, 'cheatingDetected', { where: (e) => e.data.type === 'tab_switch' });
      expect(tab.data.source).toBe('client');
      await page.waitForTimeout(20_000 - (Date.now() - offlineAt));
      // Segments recorded meanwhile wait in the browser; nothing reached the server.
      const pending = (await widgetMetrics(page)).pendingSegments;
      expect(pending).toBeGreaterThanOrEqual(5);
      const pendingText = new RegExp(DEFAULT_STRINGS.recordingPending.replace('{count}', '\\d+').replace(/[()]/g, '\\$&'));
      await expect(role(page, 'recording').textContent()).resolves.toMatch(pendingText);
      expect(await violationsOf(session.sessionId, 'tab_switch')).toEqual([]);
      expect(await widgetState(page)).toBe('in_progress');

      await page.unroute(isApi);
      await expect.poll(() => role(page, 'connection').textContent(), { timeout: 15_000 }).toBe(DEFAULT_STRINGS.connectionOnline);
      expect(await page.locator('[data-sa-banner=offline]').count()).toBe(0);
      await waitFor('the tab switch on the server', () => violationsOf(session.sessionId, 'tab_switch'), (v) => v.length === 1, 15_000);

      const { calledAt, result } = await complete(page);
      expect(result.status).toBe('completed');
      const recording = await recordingOf(session.sessionId);
      const examMs = calledAt - startedAt;
      expect(recording.segments.map((s) => s.sequence)).toEqual(range(recording.segments.length));
      expect(recording.segments.length).toBeGreaterThanOrEqual(Math.floor(examMs / 2000));
      expect(Math.abs(recording.totalDurationMs - examMs) / examMs, `recorded ${recording.totalDurationMs} ms of ${examMs} ms`).toBeLessThan(0.1);
      const tabs = await violationsOf(session.sessionId, 'tab_switch');
      expect(tabs).toHaveLength(1);
      expect(Date.parse(tabs[0]!.occurredAt)).toBe(Date.parse(tab.data.occurredAt));
      expect(await storedSequences(page, session.sessionId)).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('a reload mid-exam resumes the same session; segments left in IndexedDB are uploaded by the new page', async () => {
    const { context, page, session } = await openExam(browserA, { enrolled: true, widget: { recordingSegmentSeconds: 2 } });
    try {
      await initThroughUi(page);
      const startedAt = await start(page);
      await waitFor('two segments uploaded', () => recordingOf(session.sessionId), (r) => r.segments.length >= 2);

      // Uploads fail from now on: the next segments stay in IndexedDB when the page goes.
      const isUpload = (url: URL) => url.origin === api.url && url.pathname === '/api/widget/session/recording/segments';
      await page.route(isUpload, (route) => route.abort('internetdisconnected'));
      // Kept in the browser and not on the server (an upload already under way when the route went may still land).
      const notUploaded = async () => {
        const stored = await storedSequences(page, session.sessionId);
        const onServer = new Set((await recordingOf(session.sessionId)).segments.map((s) => s.sequence));
        return stored.filter((s) => !onServer.has(s));
      };
      const left = await waitFor('a segment kept in the browser', notUploaded, (s) => s.length >= 1);

      await page.reload();
      await page.unroute(isUpload);
      const uploads: number[] = [];
      page.on('request', (request) => {
        const sequence = uploadSequence(request);
        if (sequence !== null) uploads.push(sequence);
      });
      expect(await widgetEvents(page)).toEqual([]);
      // No consent, camera check or enrollment: init() resolves by itself, monitoring again.
      await page.evaluate(() => window.__widget!.init());
      await waitForWidgetEvent(page, 'ready');
      expect(await widgetState(page)).toBe('in_progress');
      await waitForScreen(page, 'exam');
      const screens = await screensSeen(page);
      for (const s of ['consent', 'enroll', 'ready']) expect(screens).not.toContain(s);
      expect((await detail(session.sessionId)).status).toBe('in_progress');

      // What the first page left behind is uploaded by this one, then new segments follow it.
      const afterLeftovers = await waitFor(
        'the leftovers and a new segment on the server',
        () => recordingOf(session.sessionId),
        (r) => left.every((s) => r.segments.some((x) => x.sequence === s)) && r.segments.some((x) => x.sequence > Math.max(...left)),
        20_000,
      );
      for (const s of left) expect(uploads).toContain(s);
      const leftover = afterLeftovers.segments.find((s) => s.sequence === left[0])!;
      expect(await ffprobeDecodes((await download(leftover.url)).bytes)).toBe(true);

      const { calledAt, result } = await complete(page);
      expect(result.status).toBe('completed');
      const recording = await recordingOf(session.sessionId);
      expect(recording.segments.map((s) => s.sequence)).toEqual(range(recording.segments.length));
      expect(recording.segments.length).toBeGreaterThan(Math.max(...left) + 1);
      // The segment being recorded when the page went is kept up to its last 2 s chunk (a partial copy
      // in IndexedDB, uploaded by the new page); what was recorded cannot exceed the exam.
      expect(recording.totalDurationMs).toBeLessThanOrEqual(calledAt - startedAt + 500);
      expect(await storedSequences(page, session.sessionId)).toEqual([]);
      expect((await detail(session.sessionId)).status).toBe('completed');
    } finally {
      await context.close();
    }
  }, 90_000);

  it('presence samples the server could not take survive a reload: an absence begun on the first page is dated from it', async () => {
    const browser = await launchBrowser({ fakeVideo: await blankVideo() });
    extraBrowsers.push(browser);
    const { context, page, session } = await openExam(browser, {
      enrolled: true,
      config: { faceAbsentBriefSeconds: 1, faceAbsentExtendedSeconds: 8 },
    });
    try {
      // No presence batch reaches the server from the first page.
      const isPresence = (url: URL) => url.origin === api.url && url.pathname === '/api/widget/session/presence';
      await page.route(isPresence, (route) => route.abort('internetdisconnected'));
      await initThroughUi(page);
      await start(page);
      const kept = await waitFor(
        '4 s of samples kept in the browser',
        () => storedPresence(page, session.sessionId),
        (samples) => samples.length > 0 && Date.parse(samples.at(-1)!.at) - Date.parse(samples[0]!.at) >= 4000,
        30_000,
      );
      expect(kept.every((sample) => sample.faces === 0)).toBe(true);
      expect(await violationsOf(session.sessionId, 'face_absent_brief')).toEqual([]);

      const reloadAt = Date.now();
      await page.reload();
      await page.unroute(isPresence);
      await page.evaluate(() => window.__widget!.init());
      await waitForWidgetEvent(page, 'ready');
      const [absent] = await waitFor(
        'face_absent_extended on the server',
        () => violationsOf(session.sessionId, 'face_absent_extended'),
        (v) => v.length === 1,
        30_000,
      );
      // The absence is dated from the first page's first sample: only the stored samples carried it.
      expect(Date.parse(absent!.occurredAt)).toBe(Date.parse(kept[0]!.at));
      expect(Date.parse(absent!.occurredAt)).toBeLessThan(reloadAt);
      expect(absent!.durationMs).toBeGreaterThanOrEqual(8000);

      expect((await complete(page)).result.status).toBe('completed');
      expect(await storedPresence(page, session.sessionId)).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);
});

describe('the host page is safe from the widget', () => {
  it('callbacks that throw break neither the widget nor the page', async () => {
    const { context, page, session, errors } = await openExam(browserA, { enrolled: true });
    try {
      // The host's own widget, every callback recording the call and then throwing.
      await page.evaluate(
        ({ apiUrl, token }) => {
          const record = (type: string) => (data: unknown) => {
            window.__sa.events.push({ type: type as WidgetEvent['type'], data, at: Date.now() });
            throw new Error(`host bug in ${type}`);
          };
          const Widget = (window as unknown as { SecureAccessWidget: typeof SecureAccessWidget }).SecureAccessWidget;
          window.__widget = new Widget({
            apiUrl,
            sessionToken: token,
            containerId: 'proctoring-widget',
            recordingSegmentSeconds: 3,
            presenceBatchSeconds: 1,
            onReady: () => record('ready')(undefined),
            onAuthScoreUpdate: record('authScoreUpdate'),
            onCheatingDetected: record('cheatingDetected'),
            onAssessmentComplete: record('assessmentComplete'),
            onError: record('error'),
          }) as unknown as typeof window.__widget;
        },
        { apiUrl: api.url, token: session.sessionToken },
      );
      await initThroughUi(page);
      await start(page);
      await waitForWidgetEvent(page, 'authScoreUpdate');
      await switchTabAway(page, 300);
      await waitForWidgetEvent(page, 'cheatingDetected');
      await waitFor('tab_switch on the server', () => violationsOf(session.sessionId, 'tab_switch'), (v) => v.length === 1);
      // The page still works.
      await page.locator('#answer').fill('still typing');
      expect(await page.locator('#answer').inputValue()).toBe('still typing');
      await page.waitForTimeout(1500);
      const { result } = await complete(page);
      expect(result.status).toBe('completed');
      await waitForScreen(page, 'completed');
      const types = (await widgetEvents(page)).map((e) => e.type);
      for (const t of ['ready', 'authScoreUpdate', 'cheatingDetected', 'assessmentComplete'] as const) expect(types).toContain(t);
      expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
      expect(errors.some((e) => e.includes('the onAuthScoreUpdate callback threw'))).toBe(true);
      expect(errors.some((e) => e.includes('the onAssessmentComplete callback threw'))).toBe(true);
      expect((await detail(session.sessionId)).status).toBe('completed');
    } finally {
      await context.close();
    }
  }, 60_000);
});
