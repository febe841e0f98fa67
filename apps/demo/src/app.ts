import { readFileSync } from 'node:fs';
import { Hono, type Context } from 'hono';
import { demoPage, QUIZ } from './page.ts';
import { createProctoredSession, DemoError, parseSignUp } from './sessions.ts';

export interface DemoAppOptions {
  /**
   * Base URL of the SecureAccess API the backend calls, e.g. `http://127.0.0.1:8787` (a function when
   * it is known only once the server listens).
   */
  apiBaseUrl: string | (() => string);
  /** The demo integration's API key: used server-side only, never sent to the browser. */
  apiKey: string;
  /** The HTTP client for calls to the API (tests pass an in-process app's fetch); default: global fetch. */
  fetch?: typeof fetch;
  /** The caller's address, for the per-address limit on sessions created (default: one shared bucket). */
  clientAddress?: (c: Context) => string;
  /** Sessions one address may create per window (default 30 per 10 minutes). */
  sessionLimit?: { max: number; windowMs: number };
  /** Time allowed for the API's answer (default 10 s). */
  apiTimeoutMs?: number;
}

/**
 * The page's Content-Security-Policy: only this origin; `'wasm-unsafe-eval'` for the widget's face
 * detector (tfjs WebAssembly), inline styles for the widget's Shadow DOM stylesheet, `blob:` for its
 * photo previews and recorded media.
 */
export const DEMO_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': DEMO_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Permissions-Policy': 'camera=(self), microphone=(self), fullscreen=(self)',
  'Cache-Control': 'no-store',
};

/** Largest sign-up body accepted (it holds a name and two choices). */
const MAX_BODY_BYTES = 16 * 1024;

function asset(name: string): string {
  return readFileSync(new URL(`../public/${name}`, import.meta.url), 'utf8');
}

/**
 * The demo exam site, a Hono sub-app to mount at `/demo`:
 * - `GET /demo` — the exam page (sign-up form, the widget with the seed's snippet, a quiz, an event log);
 * - `GET /demo/demo.js`, `GET /demo/demo.css` — its script and stylesheet;
 * - `POST /demo/api/sessions {userName, mode, requireFullscreen}` — the LMS backend: creates the
 *   proctoring session with the API key and returns `{sessionId, sessionToken, …}` (201), 400 on bad
 *   input, 502 when SecureAccess refused or could not be reached;
 * - `POST /demo/api/grade {answers}` — marks the quiz: `{correct, total}`.
 *
 * @example app.route('/demo', createDemoApp({ apiBaseUrl: 'http://127.0.0.1:8787', apiKey }))
 */
export function createDemoApp(options: DemoAppOptions): Hono {
  const app = new Hono();
  const script = asset('demo.js');
  const stylesheet = asset('demo.css');
  const html = demoPage();
  const baseUrl = typeof options.apiBaseUrl === 'function' ? options.apiBaseUrl : () => options.apiBaseUrl as string;
  const limit = options.sessionLimit ?? { max: 30, windowMs: 10 * 60 * 1000 };
  const windows = new Map<string, { start: number; count: number }>();

  /** A fixed window per address: a visitor can try again, but not fill the database. */
  function allow(key: string): number {
    const now = Date.now();
    for (const [k, w] of windows) if (now - w.start >= limit.windowMs) windows.delete(k);
    const w = windows.get(key) ?? { start: now, count: 0 };
    windows.set(key, w);
    if (w.count >= limit.max) return Math.ceil((w.start + limit.windowMs - now) / 1000);
    w.count++;
    return 0;
  }

  app.get('/', (c) => c.body(html, 200, PAGE_HEADERS));
  app.get('/demo.js', (c) =>
    c.body(script, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' }),
  );
  app.get('/demo.css', (c) =>
    c.body(stylesheet, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' }),
  );

  app.post('/api/sessions', async (c) => {
    const signUp = parseSignUp(await readJsonBody(c.req.raw));
    const wait = allow(options.clientAddress?.(c) ?? 'all');
    if (wait > 0) throw new DemoError(429, 'rate_limited', `Too many exam sessions started from your address; try again in ${wait} s.`);
    const session = await createProctoredSession(
      { apiBaseUrl: baseUrl(), apiKey: options.apiKey, fetch: options.fetch ?? fetch, timeoutMs: options.apiTimeoutMs ?? 10_000 },
      signUp,
    );
    return c.json(session, 201, { 'Cache-Control': 'no-store' });
  });

  // The quiz is marked here so its answers never reach the page.
  app.post('/api/grade', async (c) => c.json(gradeQuiz(await readJsonBody(c.req.raw)), 200, { 'Cache-Control': 'no-store' }));

  app.notFound((c) => c.json({ error: { code: 'not_found', message: `No demo page at ${c.req.path}.` } }, 404));
  app.onError((error, c) => {
    if (error instanceof DemoError) return c.json({ error: { code: error.code, message: error.message } }, error.status);
    console.error('demo: unexpected error', error instanceof Error ? error.message : String(error));
    return c.json({ error: { code: 'internal_error', message: 'The demo site failed; see the server log.' } }, 500);
  });
  return app;
}

/** A JSON request body of at most MAX_BODY_BYTES. */
async function readJsonBody(request: Request): Promise<unknown> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) throw new DemoError(415, 'unsupported_media_type', 'Send the form as application/json.');
  const text = await readLimited(request, MAX_BODY_BYTES);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new DemoError(400, 'invalid_json', 'The body is not valid JSON.');
  }
}

/** `{answers: [index or null, …]}` → `{correct, total}`. */
export function gradeQuiz(value: unknown): { correct: number; total: number } {
  const answers = (value as { answers?: unknown } | null)?.answers;
  if (!Array.isArray(answers) || answers.length !== QUIZ.length || !answers.every((a) => a === null || (Number.isInteger(a) && a >= 0 && a < 10))) {
    throw new DemoError(400, 'validation_failed', `answers must be a list of ${QUIZ.length} choice indexes (null when unanswered).`);
  }
  const correct = QUIZ.filter((q, i) => answers[i] === q.answer).length;
  return { correct, total: QUIZ.length };
}

/** The body as text, refusing more than `limit` bytes without reading them all. */
async function readLimited(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > limit) throw new DemoError(413, 'payload_too_large', `The form is larger than ${limit} bytes.`);
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new DemoError(413, 'payload_too_large', `The form is larger than ${limit} bytes.`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(all);
}
