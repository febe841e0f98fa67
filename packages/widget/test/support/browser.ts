import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type CDPSession, type Page } from 'playwright-core';

/**
 * Headless Chromium for the widget's tests: Debian's /usr/bin/chromium (playwright-core ships no browser;
 * scripts/ensure-system-deps.sh installs it) with a fake camera that plays a `.y4m` file in a loop.
 */

/** The browser binary: $CHROMIUM_PATH or Debian's /usr/bin/chromium. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Quiet, offline, no GPU; camera and microphone are fake devices and their permission prompt is auto-accepted. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
];

export interface LaunchOptions {
  /** A `.y4m` (see fixtures.ts) the fake camera plays, looping; without it Chromium's test pattern (a moving pacman). */
  fakeVideo?: string;
  /** Default true; false needs a display (e.g. Xvfb). */
  headless?: boolean;
  /** More command-line switches. */
  args?: string[];
}

export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const args = [...CHROMIUM_ARGS, ...(options.fakeVideo ? [`--use-file-for-fake-video-capture=${options.fakeVideo}`] : []), ...(options.args ?? [])];
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: options.headless ?? true, args });
}

/**
 * Test code run through esbuild (tsx, vitest) may call `__name(fn, "name")`, a helper that exists only in
 * Node; functions handed to `page.evaluate` then fail in the page with "__name is not defined". This
 * identity shim, installed before any page script, lets tests write ordinary TypeScript in evaluate().
 */
const NAME_SHIM = 'globalThis.__name ??= (fn) => fn;';

export interface CameraContextOptions extends BrowserContextOptions {
  /** Grant camera + microphone to this origin only (default: every origin). */
  origin?: string;
}

/** A fresh profile (no IndexedDB, no cookies) with camera and microphone permission granted. */
export async function newCameraContext(browser: Browser, options: CameraContextOptions = {}): Promise<BrowserContext> {
  const { origin, ...contextOptions } = options;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...contextOptions });
  await context.grantPermissions(['camera', 'microphone'], origin ? { origin } : undefined);
  await context.addInitScript(NAME_SHIM);
  return context;
}

/**
 * Collects, from now on, the page's console errors and uncaught exceptions (as `console: …` /
 * `pageerror: …` strings); the returned array fills as they happen. Note Chromium also logs failed
 * resource loads ("Failed to load resource: … 404") as console errors.
 */
export function collectConsoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  return errors;
}

/**
 * Sets what the page sees as its visibility and dispatches `visibilitychange` (on document, bubbling to
 * window), as a real tab switch would. Headless Chromium never changes `document.visibilityState` by
 * itself — not when another page is brought to the front, not even headful under Xvfb — so tests drive it.
 * The override lasts until the page navigates or it is set back to 'visible'.
 */
export async function setPageVisibility(page: Page, state: 'hidden' | 'visible'): Promise<void> {
  await page.evaluate(`(() => {
    const state = ${JSON.stringify(state)};
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => state === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
  })()`);
}

/** A tab switch: the page turns hidden for `awayMs` (default 1 s), then visible again. */
export async function switchTabAway(page: Page, awayMs = 1000): Promise<void> {
  await setPageVisibility(page, 'hidden');
  await page.waitForTimeout(awayMs);
  await setPageVisibility(page, 'visible');
}

/**
 * Turns off Playwright's focus emulation for `page` (CDP `Emulation.setFocusEmulationEnabled
 * {enabled: false}`): Playwright otherwise keeps every page "focused", so `blur` never fires. Afterwards
 * bringing another page of the context to the front really blurs this one (see `blurByAnotherPage`).
 */
export async function disableFocusEmulation(page: Page): Promise<CDPSession> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: false });
  return cdp;
}

/**
 * Real window blur: opens another page in the same context and brings it to the front (call
 * `disableFocusEmulation(page)` first). `visibilityState` stays 'visible' (see setPageVisibility).
 * Returns `back()`, which brings `page` to the front again (a real `focus`) and closes the other page.
 */
export async function blurByAnotherPage(page: Page): Promise<{ other: Page; back(): Promise<void> }> {
  const other = await page.context().newPage();
  await other.bringToFront();
  return {
    other,
    async back() {
      await page.bringToFront();
      await other.close();
    },
  };
}
