import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STRINGS } from '../src/strings.ts';
import { launchBrowser, newCameraContext, switchTabAway } from './support/browser.ts';
import { enrolmentJpeg, faceVideo, PERSON_A } from './support/fixtures.ts';
import { startApiServer, startLmsServer, waitForWidgetEvent, widgetEvents, type ApiServer, type LmsServer } from './support/servers.ts';

/**
 * The widget without a mouse, and what a screen reader hears: a candidate goes through consent, the
 * camera check and enrollment with Tab and Enter only, and a warning is announced once in the live
 * region (not again on every detection). Also fullscreen, which needs real user gestures (clicks).
 */

let api: ApiServer;
let lms: LmsServer;
let browser: Browser;

beforeAll(async () => {
  const video = faceVideo(PERSON_A);
  api = await startApiServer();
  lms = await startLmsServer(api.url);
  browser = await launchBrowser({ fakeVideo: await video });
}, 120_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await lms?.close();
  await api?.close();
});

/** The `data-sa-action` (or tag) of the element that has the focus, looking inside shadow roots. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    let element = document.activeElement;
    while (element?.shadowRoot?.activeElement) element = element.shadowRoot.activeElement;
    return element?.getAttribute('data-sa-action') ?? element?.tagName.toLowerCase() ?? '';
  });
}

/** Presses Tab until the control `name` has the focus (at most 12 times), then returns. */
async function tabTo(page: Page, name: string): Promise<void> {
  for (let i = 0; i < 12; i++) {
    if ((await focused(page)) === name) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached [data-sa-action=${name}] (focus is on ${await focused(page)})`);
}

function screen(page: Page): Promise<string | null> {
  return page.locator('[data-sa-screen]').getAttribute('data-sa-screen');
}

describe('keyboard and screen readers', () => {
  it('consent, camera check and enrollment work with Tab and Enter alone; a warning is announced once', async () => {
    const session = await api.createSession({ config: { requireFullscreen: false } });
    const context = await newCameraContext(browser);
    const page = await context.newPage();
    try {
      await page.goto(lms.examUrl(session.sessionToken, { presenceBatchSeconds: 1 }));
      void page.evaluate(() => window.__widget!.init());
      await page.locator('[data-sa-action="consent-accept"]').waitFor();

      await tabTo(page, 'consent-accept');
      await page.keyboard.press('Enter');
      await page.locator('[data-sa-action="camera-continue"]').waitFor();
      await tabTo(page, 'camera-continue');
      await page.keyboard.press('Enter');
      await page.locator('[data-sa-action="enroll-capture"]').waitFor();
      // Focus followed the widget to the new screen's heading: the next control is one Tab away.
      await tabTo(page, 'enroll-capture');
      await page.keyboard.press('Enter');
      await page.locator('[data-sa-action="enroll-confirm"]').waitFor();
      await tabTo(page, 'enroll-confirm');
      await page.keyboard.press('Enter');
      await waitForWidgetEvent(page, 'ready', { timeout: 30_000 });
      expect(await screen(page)).toBe('ready');

      await page.evaluate(() => window.__widget!.startAssessment());
      await page.locator('[data-sa-screen="exam"]').waitFor();
      const live = page.locator('[data-sa-role="live-region"]');
      await expect.poll(() => live.getAttribute('aria-live')).toBe('polite');

      // A tab switch: its warning is announced…
      const announcements: string[] = [];
      await page.exposeFunction('__announced', (text: string) => announcements.push(text));
      await page.evaluate(() => {
        const host = document.getElementById('proctoring-widget')!;
        const region = host.shadowRoot!.querySelector('[data-sa-role="live-region"]')!;
        new MutationObserver(() => {
          const text = region.textContent ?? '';
          if (text) (window as unknown as { __announced(t: string): void }).__announced(text);
        }).observe(region, { childList: true, characterData: true, subtree: true });
      });
      await switchTabAway(page, 500);
      await expect.poll(() => announcements.length, { timeout: 10_000 }).toBe(1);
      expect(announcements[0]).toBe(DEFAULT_STRINGS.warn_tab_switch);
      // …once: four seconds of detections and presence batches (2 fps, a batch every second) add nothing.
      await page.waitForTimeout(4000);
      expect(announcements).toEqual([DEFAULT_STRINGS.warn_tab_switch]);
      // The message box and its button are reachable too, and Enter sends.
      await tabTo(page, 'message-send');
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.type('Keyboard only');
      await page.keyboard.press('Enter');
      await expect.poll(async () => (await api.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: await api.apiKey() })).body.messagesCount).toBe(1);
      await page.evaluate(() => window.__widget!.completeAssessment());
    } finally {
      await context.close();
    }
  }, 120_000);
});

describe('fullscreen', () => {
  it('startAssessment() from a click enters fullscreen; leaving it is a fullscreen_exit and the widget offers to return', async () => {
    const session = await api.createSession({ config: { requireFullscreen: true } });
    const enrolled = await api.call('POST', '/api/widget/session/face-enroll', {
      token: session.sessionToken,
      body: { imageBase64: enrolmentJpeg().toString('base64'), source: 'upload' },
    });
    expect(enrolled.status).toBe(200);
    const context = await newCameraContext(browser);
    const page = await context.newPage();
    try {
      await page.goto(lms.examUrl(session.sessionToken, { presenceBatchSeconds: 1 }));
      void page.evaluate(() => window.__widget!.init());
      await page.locator('[data-sa-action="consent-accept"]').click();
      await page.locator('[data-sa-action="camera-continue"]').click();
      await waitForWidgetEvent(page, 'ready', { timeout: 30_000 });
      // The host's own start button: a real click, so the widget may request fullscreen.
      await page.evaluate(() => {
        const button = document.createElement('button');
        button.id = 'start';
        button.textContent = 'Start exam';
        button.addEventListener('click', () => void window.__widget!.startAssessment());
        document.body.append(button);
      });
      await page.locator('#start').click();
      await page.locator('[data-sa-screen="exam"]').waitFor();
      await expect.poll(() => page.evaluate(() => document.fullscreenElement !== null)).toBe(true);
      expect(await page.locator('[data-sa-banner="fullscreen"]').count()).toBe(0);

      await page.evaluate(() => document.exitFullscreen());
      const exit = await waitForWidgetEvent(page, 'cheatingDetected', { where: (e) => e.data.type === 'fullscreen_exit' });
      expect(exit.data).toMatchObject({ type: 'fullscreen_exit', severity: 'medium', source: 'client' });
      await page.locator('[data-sa-action="fullscreen-enter"]').waitFor();
      const apiKey = await api.apiKey();
      await expect
        .poll(async () => (await api.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: apiKey })).body.violations.map((v: { type: string }) => v.type))
        .toEqual(['fullscreen_exit']);
      // The banner's button is a real click too: back in fullscreen, the banner goes.
      await page.locator('[data-sa-action="fullscreen-enter"]').click();
      await expect.poll(() => page.evaluate(() => document.fullscreenElement !== null)).toBe(true);
      await expect.poll(() => page.locator('[data-sa-banner="fullscreen"]').count()).toBe(0);
      // Completing leaves fullscreen without counting it as an exit.
      await page.evaluate(() => window.__widget!.completeAssessment());
      await expect.poll(() => page.evaluate(() => document.fullscreenElement === null)).toBe(true);
      expect((await widgetEvents(page)).filter((e) => e.type === 'cheatingDetected')).toHaveLength(1);
    } finally {
      await context.close();
    }
  }, 120_000);
});
