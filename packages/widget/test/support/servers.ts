import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { AppConfig } from '../../../server/src/core/deps.ts';
import type { Logger } from '../../../server/src/core/ports.ts';
import { startNodeServer, type RunningServer } from '../../../server/src/runtimes/node.ts';

/**
 * The two origins of a browser test: the real SecureAccess API (http://127.0.0.1:<port>) and a tiny
 * test LMS (http://localhost:<other port>) whose exam page embeds the widget with a script tag — so every
 * widget call is cross-origin, CORS included, as in production.
 */

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  fields?: Record<string, unknown>;
}

/** Keeps the server's log lines for assertions; set SECUREACCESS_TEST_LOG=1 to also print them. */
class TestLogger implements Logger {
  readonly lines: LogLine[] = [];
  private add(level: LogLine['level'], message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level, message, fields });
    if (process.env.SECUREACCESS_TEST_LOG === '1') process.stderr.write(`[api ${level}] ${message} ${fields ? JSON.stringify(fields) : ''}\n`);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.add('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.add('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.add('error', message, fields);
  }
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface Integration {
  id: string;
  apiKey: string;
  webhookSecret: string;
}

export interface CreatedSession {
  sessionId: string;
  sessionToken: string;
  expiresAt: string;
  status: string;
  enrollment: { status: string; reason?: string };
}

export interface ApiServer {
  /** `http://127.0.0.1:<port>`, no trailing slash: what the widget gets as `apiUrl`. */
  url: string;
  port: number;
  dataDir: string;
  /** The running server's dependencies (database, blobs, clock…) for direct checks. */
  running: RunningServer;
  /** The server's log lines so far. */
  log: LogLine[];
  /** Any JSON call: `token` goes into `Authorization: Bearer`, `body` is sent as JSON. */
  call<T = any>(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<ApiResponse<T>>;
  /** A new integration (the LMS's API key). */
  createIntegration(body?: Record<string, unknown>): Promise<Integration>;
  /**
   * A session as the LMS backend creates it (API key of a default integration made on first use, or
   * `apiKey`); `body` is merged over a default candidate (student-123, "Final Exam", mode recording).
   */
  createSession(body?: Record<string, unknown>, apiKey?: string): Promise<CreatedSession>;
  /** The default integration's API key (created on first use). */
  apiKey(): Promise<string>;
  close(): Promise<void>;
}

export interface ApiServerOptions {
  /** Real face models (default true); the server answers 503 face_engine_loading until they load. */
  faceEngine?: boolean;
  /** Face worker threads (default 1: the browser needs the other core). */
  faceWorkers?: number;
  /** Resolve only once the face models are loaded (default true; ~1 s). */
  waitForFaceEngine?: boolean;
  config?: Partial<AppConfig>;
}

/** Starts the real SecureAccess Node server in-process on a free port of 127.0.0.1 with a temporary data dir. */
export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'sa-widget-api-'));
  const logger = new TestLogger();
  const faceEngine = options.faceEngine ?? true;
  let engineSettled: (error?: string) => void = () => undefined;
  const engineReady = new Promise<string | undefined>((resolve) => (engineSettled = resolve));
  let running: RunningServer;
  try {
    running = await startNodeServer({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      logger,
      allowPrivateUrls: true,
      // The environment's admin token (if any) must not lock the tests out of creating integrations.
      config: { adminToken: undefined, ...options.config },
      faceEngine: { enabled: faceEngine, workers: options.faceWorkers ?? 1 },
      onFaceEngine(event) {
        if (event.state === 'ready' || event.state === 'disabled') engineSettled();
        else if (event.state === 'failed') engineSettled(event.error);
      },
    });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const url = `http://127.0.0.1:${running.port}`;

  const server: ApiServer = {
    url,
    port: running.port,
    dataDir,
    running,
    log: logger.lines,
    async call(method, pathname, { token, body, headers = {} } = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      const h = init.headers as Record<string, string>;
      if (token) h.authorization = `Bearer ${token}`;
      if (body !== undefined) {
        h['content-type'] ??= 'application/json';
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
      }
      const response = await fetch(url + pathname, init);
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, headers: response.headers, body: parsed as any };
    },
    async createIntegration(body = { name: 'Test LMS' }) {
      const res = await server.call<Integration>('POST', '/api/integrations', { body });
      if (res.status !== 201) throw new Error(`createIntegration: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    apiKey: (() => {
      let key: Promise<string> | undefined;
      return () => (key ??= server.createIntegration().then((i) => i.apiKey));
    })(),
    async createSession(body = {}, apiKey) {
      const res = await server.call<CreatedSession>('POST', '/api/widget/sessions', {
        token: apiKey ?? (await server.apiKey()),
        body: { externalUserId: 'student-123', userName: 'John Doe', userEmail: 'john@example.com', assessmentTitle: 'Final Exam', externalAssessmentId: 'exam-456', assessmentType: 'recording', ...body },
      });
      if (res.status !== 201) throw new Error(`createSession: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async close() {
      try {
        await running.close();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };

  if (faceEngine && (options.waitForFaceEngine ?? true)) {
    const failure = await engineReady;
    if (failure) {
      await server.close();
      throw new Error(`startApiServer: the face models failed to load: ${failure}`);
    }
  }
  return server;
}

/** What the test exam page records of the widget's callbacks, in order. */
export interface WidgetEvent {
  type: 'ready' | 'authScoreUpdate' | 'cheatingDetected' | 'assessmentComplete' | 'error';
  data: any;
  /** Date.now() in the page. */
  at: number;
}

/** The widget instance as tests drive it (the seed's API). */
export interface TestWidget {
  init(): Promise<void>;
  startAssessment(): Promise<void>;
  completeAssessment(): Promise<void>;
  stopAssessment(): Promise<void>;
  destroy(): void | Promise<void>;
}

declare global {
  interface Window {
    __sa: { events: WidgetEvent[]; scriptLoaded: boolean; scriptError: boolean; constructError?: string };
    __widget?: TestWidget;
  }
}

export interface LmsServer {
  /** `http://localhost:<port>` — another origin than the API's 127.0.0.1. */
  url: string;
  port: number;
  /** The exam page for a session token; `options` are merged into the widget's constructor options (JSON values only). */
  examUrl(sessionToken: string, options?: Record<string, unknown>): string;
  /** Paths requested so far (e.g. to see that the page was reloaded). */
  requests: string[];
  close(): Promise<void>;
}

export interface LmsServerOptions {
  /** Path of the widget script on the API (default `/secureaccess-widget.js`). */
  scriptPath?: string;
}

/** JSON inside an inline <script>: `<`, U+2028 and U+2029 escaped so no value can close the tag. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function htmlAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/**
 * The exam page: loads the widget from the API with a script tag and constructs it exactly as the seed
 * does, every callback pushed into `window.__sa.events`. It does NOT call init(): tests do, through
 * `window.__widget` (e.g. `page.evaluate(() => window.__widget!.init())`), so they control the timing.
 */
export function examPage(apiUrl: string, sessionToken: string, scriptPath: string, extra: Record<string, unknown> = {}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Final Exam — Test LMS</title>
</head>
<body>
<h1>Final Exam</h1>
<p>Question 1: <input id="answer" aria-label="Answer"></p>
<!-- Container for the widget -->
<div id="proctoring-widget"></div>
<script>window.__sa = { events: [], scriptLoaded: false, scriptError: false };</script>
<script src="${htmlAttr(apiUrl + scriptPath)}" onload="window.__sa.scriptLoaded = true" onerror="window.__sa.scriptError = true"></script>
<script>
(() => {
  const record = (type) => (data) => window.__sa.events.push({ type, data, at: Date.now() });
  if (typeof SecureAccessWidget !== 'function') {
    window.__sa.constructError = 'SecureAccessWidget is not defined';
    return;
  }
  try {
    window.__widget = new SecureAccessWidget(Object.assign({
      apiUrl: ${scriptJson(apiUrl)},
      sessionToken: ${scriptJson(sessionToken)}, // From your server
      containerId: 'proctoring-widget',
      onReady: record('ready'),
      onAuthScoreUpdate: record('authScoreUpdate'),
      onCheatingDetected: record('cheatingDetected'),
      onAssessmentComplete: record('assessmentComplete'),
      onError: record('error'),
    }, ${scriptJson(extra)}));
  } catch (error) {
    window.__sa.constructError = String(error && error.message || error);
  }
})();
</script>
</body>
</html>
`;
}

/**
 * A test LMS on http://localhost:<free port>: `GET /exam?token=<sessionToken>[&options=<json>]` serves
 * `examPage`; `GET /` a plain page (a same-origin place to run getUserMedia and the like).
 */
export async function startLmsServer(apiUrl: string, options: LmsServerOptions = {}): Promise<LmsServer> {
  const scriptPath = options.scriptPath ?? '/secureaccess-widget.js';
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://localhost');
    requests.push(u.pathname + u.search);
    const html = (status: number, body: string) => res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);
    if (req.method !== 'GET') return html(405, 'Method not allowed');
    if (u.pathname === '/') return html(200, '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test LMS</title></head><body><h1>Test LMS</h1></body></html>');
    if (u.pathname === '/favicon.ico') return res.writeHead(204).end();
    if (u.pathname !== '/exam') return html(404, 'Not found');
    const token = u.searchParams.get('token');
    if (!token) return html(400, 'token is required');
    let extra: Record<string, unknown> = {};
    const raw = u.searchParams.get('options');
    if (raw) {
      try {
        extra = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return html(400, 'options must be JSON');
      }
    }
    return html(200, examPage(apiUrl, token, scriptPath, extra));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Bound to 127.0.0.1 (Node may resolve "localhost" to ::1 only); the page is addressed as "localhost",
    // which Chromium maps to loopback itself — a different origin from the API's 127.0.0.1.
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://localhost:${port}`;
  return {
    url,
    port,
    requests,
    examUrl(sessionToken, extraOptions) {
      const query = new URLSearchParams({ token: sessionToken });
      if (extraOptions) query.set('options', JSON.stringify(extraOptions));
      return `${url}/exam?${query}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The widget callbacks the exam page has seen so far. */
export function widgetEvents(page: Page): Promise<WidgetEvent[]> {
  return page.evaluate(() => window.__sa.events);
}

/** Waits until the exam page has seen a callback of `type` (optionally matching `where`), and returns it. */
export async function waitForWidgetEvent(page: Page, type: WidgetEvent['type'], options: { timeout?: number; where?: (event: WidgetEvent) => boolean } = {}): Promise<WidgetEvent> {
  const deadline = Date.now() + (options.timeout ?? 15_000);
  for (;;) {
    const found = (await widgetEvents(page)).find((e) => e.type === type && (options.where?.(e) ?? true));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`waitForWidgetEvent: no "${type}" within ${options.timeout ?? 15_000} ms; saw ${JSON.stringify((await widgetEvents(page)).map((e) => e.type))}`);
    await page.waitForTimeout(100);
  }
}
