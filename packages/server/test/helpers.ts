import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { createApp } from '../src/core/app.ts';
import { randomBytes } from '../src/core/crypto.ts';
import type { AppConfig } from '../src/core/deps.ts';
import type { AppEnv } from '../src/core/http.ts';
import type { FaceEngine, Logger } from '../src/core/ports.ts';
import { createNodeDeps, type NodeRuntimeDeps } from '../src/runtimes/node-deps.ts';

/** A clock the test moves by hand. */
export class TestClock {
  constructor(public t = Date.parse('2026-01-05T09:00:00.000Z')) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export class MemoryLogger implements Logger {
  readonly lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  info(message: string, fields?: Record<string, unknown>) {
    this.lines.push({ level: 'info', message, fields });
  }
  warn(message: string, fields?: Record<string, unknown>) {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(message: string, fields?: Record<string, unknown>) {
    this.lines.push({ level: 'error', message, fields });
  }
}

export interface TestApp {
  app: Hono<AppEnv>;
  deps: NodeRuntimeDeps;
  clock: TestClock;
  logger: MemoryLogger;
  dataDir: string;
  /** JSON request helper: returns status, headers and the parsed body. */
  call(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; body: any }>;
  close(): Promise<void>;
}

/**
 * The real app on the real SQLite adapter (in memory) and a temp blob directory, driven in-process
 * with `app.request()`. Private URLs are allowed so tests can use local receivers.
 */
export async function makeTestApp(
  options: { config?: Partial<AppConfig>; allowPrivateUrls?: boolean; clock?: TestClock; faceEngine?: FaceEngine } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sa-test-'));
  const clock = options.clock ?? new TestClock();
  const logger = new MemoryLogger();
  const deps = await createNodeDeps({
    dataDir,
    databaseFile: ':memory:',
    allowPrivateUrls: options.allowPrivateUrls ?? true,
    masterKey: randomBytes(32),
    clock,
    logger,
    config: options.config,
    faceEngine: options.faceEngine ?? null,
  });
  const { app } = createApp(deps);
  return {
    app,
    deps,
    clock,
    logger,
    dataDir,
    async call(method, path, { token, body, headers = {} } = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (token) (init.headers as Record<string, string>).authorization = `Bearer ${token}`;
      if (body !== undefined) {
        (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
      }
      const response = await app.request(path, init);
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, headers: response.headers, body: parsed };
    },
    async close() {
      await deps.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function createIntegration(t: TestApp, body: Record<string, unknown> = { name: 'Test LMS' }) {
  const res = await t.call('POST', '/api/integrations', { body });
  if (res.status !== 201) throw new Error(`createIntegration: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; apiKey: string; webhookSecret: string };
}

export async function createSession(t: TestApp, apiKey: string, body: Record<string, unknown> = {}) {
  const res = await t.call('POST', '/api/widget/sessions', {
    token: apiKey,
    body: { externalUserId: 'student-123', userName: 'John Doe', userEmail: 'john@example.com', assessmentTitle: 'Final Exam', externalAssessmentId: 'exam-456', ...body },
  });
  if (res.status !== 201) throw new Error(`createSession: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { sessionId: string; sessionToken: string; expiresAt: string };
}

/**
 * Marks a session's face as enrolled directly in the database. Enrollment through the API needs the
 * face engine (issue #3); lifecycle tests only need the precondition that start checks.
 */
export async function markEnrolled(t: TestApp, sessionId: string): Promise<void> {
  await t.deps.db
    .updateTable('sessions')
    .set({ enrollment_status: 'enrolled', enrollment_source: 'upload', enrolled_at: t.clock.now(), score_identity: 100, score_overall: 100 })
    .where('id', '=', sessionId)
    .execute();
}

/** An integration with one started session. */
export async function startedSession(t: TestApp, sessionBody: Record<string, unknown> = {}, integrationBody?: Record<string, unknown>) {
  const integration = await createIntegration(t, integrationBody);
  const session = await createSession(t, integration.apiKey, sessionBody);
  await markEnrolled(t, session.sessionId);
  const res = await t.call('POST', '/api/widget/session/start', { token: session.sessionToken });
  if (res.status !== 200) throw new Error(`start: ${res.status} ${JSON.stringify(res.body)}`);
  return { integration, session };
}

let violationCounter = 0;
/** A fresh client event id. */
export function eventId(): string {
  violationCounter++;
  return `evt-${Date.now().toString(36)}-${violationCounter.toString().padStart(6, '0')}`;
}
