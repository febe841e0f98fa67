import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { collectConsoleErrors, launchBrowser } from '../../../packages/widget/test/support/browser.ts';
import { startApiServer, type ApiServer, type CreatedSession, type Integration } from '../../../packages/widget/test/support/servers.ts';

/**
 * The proctor console in headless Chromium against the real server: sign-in, the sessions list, a
 * session's page (recording, flags, messages, stop, erase) and the webhook log. The server serves the
 * built console (apps/console/dist: `npm test` builds it first).
 */

const DIST = fileURLToPath(new URL('../dist/console.js', import.meta.url));
const run = promisify(execFile);

let api: ApiServer;
let browser: Browser;
let integration: Integration;
let hooks: http.Server;
let workDir: string;
let segmentPath: string;
let context: BrowserContext | undefined;

beforeAll(async () => {
  if (!existsSync(DIST)) throw new Error('apps/console/dist is missing: run `npm run build` (npm test does) first.');
  workDir = await mkdtemp(path.join(tmpdir(), 'sa-console-test-'));
  segmentPath = path.join(workDir, 'segment.webm');
  // Four seconds of test pattern: a segment as self-contained as the widget's.
  await run('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '4', '-c:v', 'libvpx', segmentPath]);
  hooks = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  api = await startApiServer({ faceEngine: false });
  const port = (hooks.address() as AddressInfo).port;
  integration = await api.createIntegration({ name: 'Console Test LMS', webhookUrl: `http://127.0.0.1:${port}/hooks` });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await new Promise((resolve) => hooks?.close(resolve));
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

afterEach(async () => {
  await context?.close();
  context = undefined;
});

async function newPage(): Promise<Page> {
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  return context.newPage();
}

async function signIn(page: Page, next = '/console/sessions'): Promise<void> {
  await page.goto(`${api.url}${next}`);
  await page.getByLabel('API key').fill(integration.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`**${next}`);
}

/** A session in progress: created by the "LMS", enrolled (written directly, no face models here), started. */
async function liveSession(body: Record<string, unknown> = {}): Promise<CreatedSession & { startedAt: string }> {
  const session = await api.createSession({ config: { autoStop: false }, ...body }, integration.apiKey);
  await api.running.deps.db
    .updateTable('sessions')
    .set({ enrollment_status: 'enrolled', enrollment_source: 'upload', enrolled_at: Date.now(), score_identity: 100, score_overall: 100 })
    .where('id', '=', session.sessionId)
    .execute();
  const started = await api.call('POST', '/api/widget/session/start', { token: session.sessionToken });
  expect(started.status).toBe(200);
  return { ...session, startedAt: started.body.startedAt };
}

async function reportViolation(token: string, type: string, occurredAt: number): Promise<void> {
  const id = `evt-${Math.random().toString(36).slice(2, 12)}`;
  const res = await api.call('POST', '/api/widget/session/violation', { token, body: { id, type, occurredAt: new Date(occurredAt).toISOString(), durationMs: 1500 } });
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
}

async function uploadSegment(token: string, sequence: number, startedAt: number): Promise<void> {
  const bytes = await readFile(segmentPath);
  const query = new URLSearchParams({
    sequence: String(sequence),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    durationMs: '4000',
    startedAt: new Date(startedAt).toISOString(),
  });
  const res = await fetch(`${api.url}/api/widget/session/recording/segments?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'video/webm' },
    body: bytes,
  });
  expect(res.status).toBe(201);
}

describe('proctor console', () => {
  test('without a console session every page leads to sign-in; a wrong key gets a clear error and the field is cleared', async () => {
    const page = await newPage();
    await page.goto(`${api.url}/console/sessions/ses_doesnotmatter1`);
    expect(new URL(page.url()).pathname).toBe('/console/signin');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/console/sessions/ses_doesnotmatter1');

    await page.getByLabel('API key').fill('sa_live_thisisnotakey');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const error = page.getByTestId('signin-error');
    await expect.poll(() => error.isVisible()).toBe(true);
    expect(await error.textContent()).toMatch(/not valid/i);
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await page.getByLabel('API key').inputValue()).toBe('');
    expect(await page.getByLabel('API key').getAttribute('type')).toBe('password');
  });

  test('lists live sessions first with score and flags, and keeps no secret in the browser', async () => {
    const older = await liveSession({ externalUserId: 'stu-older', userName: 'Older Live' });
    await api.call('POST', '/api/widget/session/complete', { token: older.sessionToken });
    const created = await api.createSession({ externalUserId: 'stu-created', userName: 'Not Started' }, integration.apiKey);
    const live = await liveSession({ externalUserId: 'stu-live', userName: 'Live Candidate' });
    await reportViolation(live.sessionToken, 'tab_switch', Date.parse(live.startedAt) + 500);
    // The newest session is not live: the live one must still come first.
    const newest = await api.createSession({ externalUserId: 'stu-newest', userName: 'Newest' }, integration.apiKey);

    const page = await newPage();
    const bodies: string[] = [];
    page.on('response', async (response) => {
      if (new URL(response.url()).pathname.startsWith('/api/')) bodies.push(await response.text().catch(() => ''));
    });
    await signIn(page);
    await page.getByTestId('sessions-table').waitFor();
    const rows = page.getByTestId('session-row');
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(4);
    const ids = await rows.evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.sessionId));
    expect(ids[0]).toBe(live.sessionId);
    expect(ids.indexOf(newest.sessionId)).toBeLessThan(ids.indexOf(created.sessionId));
    const first = rows.first();
    expect(await first.getByTestId('session-status').textContent()).toBe('in progress');
    expect(await first.textContent()).toContain('1 medium');
    expect(await page.getByTestId('integration-name').textContent()).toBe('Console Test LMS');

    expect(await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie])).toEqual([0, 0, '']);
    const cookie = (await context!.cookies()).find((c) => c.name === 'sa_console');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Strict');
    for (const body of bodies) {
      expect(body).not.toContain(integration.apiKey);
      expect(body).not.toContain(integration.webhookSecret);
      expect(body).not.toContain('sa_sess_');
    }

    // Filters narrow the list (and live in the address).
    await page.getByTestId('filter-candidate').fill('stu-older');
    await page.getByTestId('filter-candidate').press('Enter');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-session-id')).toBe(older.sessionId);
    expect(page.url()).toContain('candidate=stu-older');
  });

  test('session page: the recording plays, a flag seeks it, messages flow both ways live, and stop ends the session', async () => {
    const session = await liveSession({ externalUserId: 'stu-review', userName: 'Review Candidate' });
    const start = Date.parse(session.startedAt);
    await uploadSegment(session.sessionToken, 0, start);
    await reportViolation(session.sessionToken, 'window_blur', start + 2500);

    const page = await newPage();
    const errors = collectConsoleErrors(page);
    const failed: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${new URL(response.url()).pathname}`);
    });
    await signIn(page, `/console/sessions/${session.sessionId}`);
    await page.locator('[data-testid="live-state"][data-state="open"]').waitFor();

    const video = page.getByTestId('recording-player');
    await expect.poll(() => video.evaluate((v) => (v as HTMLVideoElement).duration), { timeout: 10_000 }).toBeGreaterThan(0);
    await page.getByTestId('violation-flag').first().click();
    await expect.poll(() => video.evaluate((v) => (v as HTMLVideoElement).currentTime)).toBeCloseTo(2.5, 0);

    // A violation raised now shows up without a reload.
    await reportViolation(session.sessionToken, 'tab_switch', Date.now());
    await expect.poll(() => page.getByTestId('violation-flag').count()).toBe(2);
    expect(await page.getByTestId('score-chart').isVisible()).toBe(true);

    // Proctor → candidate.
    await page.getByTestId('message-input').fill('Please keep your face in view.');
    await page.getByTestId('message-send').click();
    await expect
      .poll(async () => (await api.call('GET', '/api/widget/session/messages', { token: session.sessionToken })).body.messages)
      .toEqual([expect.objectContaining({ senderRole: 'proctor', body: 'Please keep your face in view.' })]);
    // Candidate → proctor, in real time; markup in a message stays text.
    await api.call('POST', '/api/widget/session/messages', { token: session.sessionToken, body: { body: 'OK <b>sorry</b>' } });
    const list = page.getByTestId('messages-list');
    await list.getByText('OK <b>sorry</b>').waitFor();
    expect(await list.locator('b').count()).toBe(0);

    await page.getByTestId('stop-session').click();
    await page.getByTestId('stop-reason-input').fill('Left the room');
    await page.getByTestId('dialog-confirm').click();
    await page.getByTestId('action-status').filter({ hasText: 'Session stopped.' }).waitFor();
    const detail = await api.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(detail.body).toMatchObject({ status: 'stopped', stopReason: 'proctor', stopNote: 'Left the room' });
    await page.locator('[data-testid="session-summary"] [data-testid="session-status"][data-status="stopped"]').waitFor();
    await expect.poll(() => page.getByTestId('stop-reason').textContent()).toContain('Left the room');
    expect(await page.getByTestId('stop-session').isDisabled()).toBe(true);
    // Enrolled without a photo (set directly above): the photo's 404 is shown as "no photo", nothing else failed.
    expect(await page.getByTestId('enrollment-none').isVisible()).toBe(true);
    expect(failed).toEqual([`404 /api/widget/sessions/${session.sessionId}/face/enrollment`]);
    expect(errors.filter((e) => !e.includes('404'))).toEqual([]);
  });

  test('erasing needs ERASE typed, then the page shows the anonymous record', async () => {
    const session = await liveSession({ externalUserId: 'stu-erase', userName: 'Erase Me' });
    const page = await newPage();
    await signIn(page, `/console/sessions/${session.sessionId}`);
    await page.getByTestId('erase-session').click();
    const confirm = page.getByTestId('dialog-confirm');
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByTestId('erase-confirm-input').fill('erase');
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByTestId('erase-confirm-input').fill('ERASE');
    await confirm.click();
    await page.getByTestId('erased-notice').waitFor();
    expect(await page.getByTestId('action-status').textContent()).toBe('Personal data erased.');
    expect(await page.getByTestId('session-title').textContent()).toBe(session.sessionId);
    const detail = await api.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(detail.body.erasedAt).not.toBeNull();
  });

  test('webhook log: deliveries with their status, and redeliver', async () => {
    await liveSession({ externalUserId: 'stu-hooks' });
    // Wait for the dispatcher to finish, so the redelivery is not refused as in flight.
    await expect
      .poll(async () => {
        const res = await api.call('GET', '/api/integration/webhook-deliveries', { token: integration.apiKey });
        return res.body.deliveries.length > 0 && res.body.deliveries.every((d: { status: string }) => d.status === 'delivered');
      }, { timeout: 15_000 })
      .toBe(true);
    const page = await newPage();
    await signIn(page, '/console/webhooks');
    await page.getByTestId('deliveries-table').waitFor();
    const row = page.getByTestId('delivery-row').first();
    expect(await row.getByTestId('delivery-status').textContent()).toBe('delivered');
    const attempts = Number(await row.locator('td.num').textContent());
    await row.getByTestId('redeliver').click();
    await page.getByTestId('redeliver-status').filter({ hasText: 'queued' }).waitFor();
    // The outcome shows by itself (the page refreshes after a redelivery), and focus stays on the row's button.
    await expect
      .poll(async () => [await row.getByTestId('delivery-status').textContent(), Number(await row.locator('td.num').textContent())], { timeout: 8_000 })
      .toEqual(['delivered', attempts + 1]);
    expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.testid)).toBe('redeliver');
  });

  test('works from the keyboard alone: sign in, open a session, send a message, stop it', async () => {
    const session = await liveSession({ externalUserId: 'stu-keys', userName: 'Key Board' });
    const page = await newPage();
    /** The focused element: its data-testid, else its tag and accessible text. */
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el?.dataset.testid ?? `${el?.tagName.toLowerCase()}:${(el?.textContent ?? '').trim().slice(0, 40)}`;
      });
    const tabUntil = async (matches: (f: string) => boolean, what: string, max = 60) => {
      for (let i = 0; i < max; i++) {
        if (matches(await focused())) return;
        await page.keyboard.press('Tab');
      }
      throw new Error(`Tab never reached ${what} (focus on ${await focused()})`);
    };

    await page.goto(`${api.url}/console/sessions`);
    await page.waitForURL('**/console/signin**');
    await tabUntil((f) => f === 'signin-key', 'the API key field');
    await page.keyboard.type(integration.apiKey);
    await page.keyboard.press('Enter');
    await page.waitForURL('**/console/sessions');
    await page.getByTestId('sessions-table').waitFor();
    // After navigation the focus is on the page's main region: the next Tab is inside the page's content.
    await tabUntil((f) => f === 'a:Key Board', "the candidate's row link");
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/console/sessions/${session.sessionId}`);

    await page.getByTestId('message-input').waitFor();
    await tabUntil((f) => f === 'message-input', 'the message box');
    await page.keyboard.type('Typed without a mouse');
    await tabUntil((f) => f === 'message-send', 'the send button');
    await page.keyboard.press('Enter');
    await expect
      .poll(async () => (await api.call('GET', '/api/widget/session/messages', { token: session.sessionToken })).body.messages.map((m: { body: string }) => m.body))
      .toEqual(['Typed without a mouse']);

    await tabUntil((f) => f === 'stop-session', 'the stop button');
    await page.keyboard.press('Enter');
    await page.getByTestId('stop-reason-input').waitFor();
    // The dialog takes the focus; Tab reaches its confirm button, Enter stops the session.
    await tabUntil((f) => f === 'dialog-confirm', 'the dialog confirm button', 10);
    await page.keyboard.press('Enter');
    await page.getByTestId('action-status').filter({ hasText: 'Session stopped.' }).waitFor();
    expect((await api.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey })).body.status).toBe('stopped');
  });

  test('sign out ends the console session', async () => {
    const page = await newPage();
    await signIn(page);
    await page.getByTestId('sign-out').click();
    await page.waitForURL('**/console/signin?signedout=1');
    await page.goto(`${api.url}/console/webhooks`);
    expect(new URL(page.url()).pathname).toBe('/console/signin');
    const me = await page.evaluate(async () => (await fetch('/api/console/me')).status);
    expect(me).toBe(401);
  });
});
