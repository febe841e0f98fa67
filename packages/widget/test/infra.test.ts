import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blurByAnotherPage, collectConsoleErrors, disableFocusEmulation, launchBrowser, newCameraContext, switchTabAway } from './support/browser.ts';
import { blankVideo, faceVideo, ffprobeDecodes, ffprobeDuration, PERSON_A } from './support/fixtures.ts';
import { startApiServer, startLmsServer, waitForWidgetEvent, widgetEvents, type ApiServer, type LmsServer } from './support/servers.ts';

/**
 * The browser-test infrastructure itself: Chromium with a fake camera fed from a photo, the API and the
 * test LMS on two origins, the tab-switch/blur drivers and the recording checks.
 */

interface CameraFrame {
  secure: boolean;
  width: number | undefined;
  height: number | undefined;
  /** Variance of the frame's luma (0 = one flat colour). */
  variance: number;
  jpeg: string;
}

/** In the page: open the camera, draw one frame, measure it and keep it as a JPEG data URL. */
function grabCameraFrame(page: Page): Promise<CameraFrame> {
  return page.evaluate(async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true });
    const track = stream.getVideoTracks()[0]!;
    const video = document.createElement('video');
    video.muted = true;
    video.srcObject = stream;
    await video.play();
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const g = canvas.getContext('2d')!;
    g.drawImage(video, 0, 0);
    const { data } = g.getImageData(0, 0, canvas.width, canvas.height);
    let sum = 0;
    let sumSq = 0;
    const n = data.length / 4;
    for (let i = 0; i < data.length; i += 4) {
      const y = 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
      sum += y;
      sumSq += y * y;
    }
    const { width, height } = track.getSettings();
    const jpeg = canvas.toDataURL('image/jpeg', 0.9);
    for (const t of stream.getTracks()) t.stop();
    return { secure: isSecureContext, width, height, variance: sumSq / n - (sum / n) ** 2, jpeg };
  });
}

describe('browser test infrastructure', () => {
  let api: ApiServer;
  let lms: LmsServer;
  let browser: Browser | undefined;

  beforeAll(async () => {
    api = await startApiServer();
    lms = await startLmsServer(api.url);
  });

  afterAll(async () => {
    await browser?.close();
    await lms?.close();
    await api?.close();
  });

  it('serves the API and the LMS on two origins', async () => {
    expect(new URL(api.url).origin).not.toBe(new URL(lms.url).origin);
    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(lms.url).toMatch(/^http:\/\/localhost:\d+$/);
    const health = await api.call('GET', '/api/health');
    expect(health.body).toMatchObject({ status: 'ok', faceEngine: 'ready' });
  });

  it("shows person A's photo on the fake camera, good enough for the server to enrol cross-origin", async () => {
    browser = await launchBrowser({ fakeVideo: await faceVideo(PERSON_A) });
    const context = await newCameraContext(browser);
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);

    const session = await api.createSession();
    await page.goto(lms.examUrl(session.sessionToken));
    // The exam page ran its bootstrap whether or not the widget script exists yet.
    expect(await page.evaluate(() => Array.isArray(window.__sa.events))).toBe(true);
    expect(new URL(page.url()).origin).toBe(lms.url);

    const frame = await grabCameraFrame(page);
    expect(frame).toMatchObject({ secure: true, width: 640, height: 480 });
    expect(frame.variance).toBeGreaterThan(500);

    // From the LMS origin to the API origin, as the widget will: CORS lets the page read the answer.
    const enrolled = await page.evaluate(
      async ({ apiUrl, token, image }) => {
        const res = await fetch(`${apiUrl}/api/widget/session/face-enroll`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ imageBase64: image, source: 'webcam' }),
        });
        return { status: res.status, body: await res.json() };
      },
      { apiUrl: api.url, token: session.sessionToken, image: frame.jpeg },
    );
    expect(enrolled.status).toBe(200);
    expect(enrolled.body.enrollment.status).toBe('enrolled');
    expect(enrolled.body.quality.faceSize).toBeGreaterThan(100);
    expect(errors.filter((e) => !e.includes('secureaccess-widget.js') && !/Failed to load resource/.test(e))).toEqual([]);
    await context.close();
  });

  it('builds the widget on the exam page exactly as the seed does, without calling init()', async () => {
    const context = await newCameraContext(browser!);
    const page = await context.newPage();
    // A stand-in for the real script: records its options and reports through every callback on init().
    await page.route(`${api.url}/secureaccess-widget.js`, (route) =>
      route.fulfill({
        contentType: 'text/javascript',
        body: `window.SecureAccessWidget = class {
          constructor(options) { this.options = options; window.__constructed = Object.keys(options); }
          async init() {
            const o = this.options;
            o.onReady(); o.onAuthScoreUpdate({ overall: 100, identity: 100, presence: 100, behavioral: 100 });
            o.onCheatingDetected({ type: 'tab_switch', severity: 'medium' });
            o.onAssessmentComplete({ status: 'completed', authScore: 100 }); o.onError({ code: 'x', message: 'y' });
          }
        };`,
      }),
    );
    await page.goto(lms.examUrl('sa_sess_test', { consentText: 'Custom </script> consent' }));
    expect(await page.evaluate(() => window.__sa.scriptLoaded)).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { __constructed: string[] }).__constructed.sort())).toEqual(
      ['apiUrl', 'consentText', 'containerId', 'onAssessmentComplete', 'onAuthScoreUpdate', 'onCheatingDetected', 'onError', 'onReady', 'sessionToken'].sort(),
    );
    expect(await widgetEvents(page)).toEqual([]);
    const options = await page.evaluate(() => {
      const o = (window.__widget as unknown as { options: Record<string, unknown> }).options;
      return { apiUrl: o.apiUrl, sessionToken: o.sessionToken, containerId: o.containerId, consentText: o.consentText };
    });
    expect(options).toEqual({ apiUrl: api.url, sessionToken: 'sa_sess_test', containerId: 'proctoring-widget', consentText: 'Custom </script> consent' });
    await page.evaluate(() => window.__widget!.init());
    expect((await waitForWidgetEvent(page, 'error')).data).toEqual({ code: 'x', message: 'y' });
    expect((await widgetEvents(page)).map((e) => e.type)).toEqual(['ready', 'authScoreUpdate', 'cheatingDetected', 'assessmentComplete', 'error']);
    await context.close();
  });

  it('drives a tab switch and a real window blur', async () => {
    const context = await newCameraContext(browser!);
    const page = await context.newPage();
    await page.goto(lms.url + '/');
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      document.addEventListener('visibilitychange', () => seen.push(`visibility:${document.visibilityState}:${document.hidden}`));
      window.addEventListener('blur', (e) => e.target === window && seen.push('blur'));
      window.addEventListener('focus', (e) => e.target === window && seen.push('focus'));
    });
    const seen = () => page.evaluate(() => (window as unknown as { seen: string[] }).seen);

    await switchTabAway(page, 50);
    expect(await seen()).toEqual(['visibility:hidden:true', 'visibility:visible:false']);

    await disableFocusEmulation(page);
    const away = await blurByAnotherPage(page);
    await page.waitForTimeout(200);
    expect(await page.evaluate(() => document.hasFocus())).toBe(false);
    await away.back();
    await page.waitForTimeout(200);
    expect((await seen()).slice(2)).toEqual(['blur', 'focus']);
    await context.close();
  });

  it('shows an empty room on the blank camera', async () => {
    const blank = await launchBrowser({ fakeVideo: await blankVideo() });
    try {
      const context = await newCameraContext(blank);
      const page = await context.newPage();
      await page.goto(lms.url + '/');
      const frame = await grabCameraFrame(page);
      expect(frame).toMatchObject({ secure: true, width: 640, height: 480 });
      expect(frame.variance).toBeLessThan(50);
    } finally {
      await blank.close();
    }
  });

  it("checks MediaRecorder's WebM from the fake camera: a whole recording plays, a timeslice chunk alone does not", async () => {
    const context = await newCameraContext(browser!);
    const page = await context.newPage();
    await page.goto(lms.url + '/');
    const recorded = await page.evaluate(async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
      const recorder = new MediaRecorder(stream, { mimeType: 'video/webm;codecs=vp8,opus', videoBitsPerSecond: 250_000 });
      const chunks: Blob[] = [];
      recorder.ondataavailable = (e) => chunks.push(e.data);
      recorder.start(1000);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      await new Promise((resolve) => {
        recorder.onstop = resolve;
        recorder.stop();
      });
      for (const t of stream.getTracks()) t.stop();
      const base64 = async (blob: Blob) => {
        let s = '';
        for (const byte of new Uint8Array(await blob.arrayBuffer())) s += String.fromCharCode(byte);
        return btoa(s);
      };
      return { whole: await base64(new Blob(chunks)), second: await base64(chunks[1]!) };
    });
    const whole = Buffer.from(recorded.whole, 'base64');
    expect(await ffprobeDecodes(whole)).toBe(true);
    expect(Math.abs((await ffprobeDuration(whole)) - 2.5)).toBeLessThan(0.4);
    expect(await ffprobeDecodes(Buffer.from(recorded.second, 'base64'))).toBe(false);
    await context.close();
  });

  it('tells a playable WebM from a truncated one or garbage', async () => {
    const webm = execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15', '-t', '2', '-c:v', 'libvpx', '-b:v', '200k', '-deadline', 'realtime', '-cpu-used', '8', '-f', 'webm', 'pipe:1']);
    expect(await ffprobeDecodes(webm)).toBe(true);
    expect(await ffprobeDuration(webm)).toBeCloseTo(2, 1);
    expect(await ffprobeDecodes(webm.subarray(0, webm.length >> 1))).toBe(false);
    // A later chunk without the header (RecordRTC #550/#438) does not play on its own.
    expect(await ffprobeDecodes(webm.subarray(2000))).toBe(false);
    expect(await ffprobeDecodes(randomBytes(4000))).toBe(false);
  });
});
