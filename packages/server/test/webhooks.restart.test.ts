import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { WebhookReceiver } from './webhook-receiver.ts';

/**
 * The outbox survives a crash: the real server (child process) commits a `session.started` event, is
 * killed with SIGKILL before it could deliver, and a new process on the same data directory delivers it.
 */
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
}

const children: ChildProcess[] = [];

/** Ports handed out so far: the receiver's must stay free for it while the servers pick theirs. */
const usedPorts = new Set<number>();

async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (!usedPorts.has(port)) {
      usedPorts.add(port);
      return port;
    }
  }
}

/** Polls `check` until it returns a value other than undefined, or fails at the deadline. */
async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, diagnostics = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.\n${diagnostics()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function startServer(dataDir: string): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/server/src/runtimes/node.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      SECUREACCESS_DATA_DIR: dataDir,
      SECUREACCESS_ALLOW_PRIVATE_URLS: 'true',
      SECUREACCESS_WEBHOOK_RETRY_SCHEDULE_MS: '1000,1000,1000',
      SECUREACCESS_WEBHOOK_TIMEOUT_MS: '1000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  await until(
    'the server to answer /api/health',
    async () => {
      if (child.exitCode !== null) throw new Error(`The server exited with ${child.exitCode}:\n${output}`);
      const res = await fetch(`${url}/api/health`).catch(() => null);
      return res?.ok ? true : undefined;
    },
    30_000,
    () => output,
  );
  return { child, url, output: () => output };
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

async function api(server: ServerProcess, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe('webhook outbox across a crash', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sa-restart-'));
  let receiver: WebhookReceiver | null = null;

  afterAll(async () => {
    for (const child of children) await stopChild(child, 'SIGKILL');
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers an event committed just before SIGKILL once the server is back', { timeout: 90_000 }, async () => {
    const receiverPort = await freePort(); // nothing listens there until after the crash
    const first = await startServer(dataDir);

    const created = await api(first, 'POST', '/api/integrations', undefined, {
      name: 'Restart LMS',
      webhookUrl: `http://127.0.0.1:${receiverPort}/hook`,
    });
    expect(created.status).toBe(201);
    const { apiKey, webhookSecret } = created.body as { apiKey: string; webhookSecret: string };
    const session = await api(first, 'POST', '/api/widget/sessions', apiKey, { externalUserId: 'student-9', externalAssessmentId: 'exam-9' });
    expect(session.status).toBe(201);
    const { sessionId, sessionToken } = session.body as { sessionId: string; sessionToken: string };

    // The face engine is not part of this test: mark the enrollment done in the database itself.
    const sqlite = new Database(join(dataDir, 'secureaccess.db'));
    sqlite.pragma('busy_timeout = 5000');
    sqlite
      .prepare("UPDATE sessions SET enrollment_status = 'enrolled', enrollment_source = 'upload', enrolled_at = ?, score_identity = 100 WHERE id = ?")
      .run(Date.now(), sessionId);
    sqlite.close();

    const started = await api(first, 'POST', '/api/widget/session/start', sessionToken);
    expect(started.status).toBe(200);
    await stopChild(first.child, 'SIGKILL');

    // The event is in the outbox, not yet delivered (the receiver was not listening).
    const db = new Database(join(dataDir, 'secureaccess.db'), { readonly: true });
    const rows = db.prepare('SELECT id, event_type, status FROM webhook_outbox WHERE session_id = ?').all(sessionId) as {
      id: string;
      event_type: string;
      status: string;
    }[];
    db.close();
    expect(rows.map((r) => [r.event_type, r.status])).toEqual([['session.started', 'pending']]);
    const eventId = rows[0]!.id;

    receiver = await WebhookReceiver.start(receiverPort);
    const second = await startServer(dataDir);
    const log = await until(
      'the delivery to be acknowledged',
      async () => {
        const res = await api(second, 'GET', `/api/integration/webhook-deliveries?sessionId=${sessionId}`, apiKey);
        const delivery = res.body.deliveries?.[0];
        return delivery?.status === 'delivered' ? delivery : undefined;
      },
      30_000,
      () => second.output(),
    );
    // One more dispatcher poll interval, so that a duplicate send would have happened by now.
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    const forEvent = receiver.received.filter((r) => r.headers['webhook-id'] === eventId);
    expect(receiver.received).toHaveLength(1);
    expect(forEvent.filter((r) => r.status === 200)).toHaveLength(1);
    const payload = new Webhook(webhookSecret).verify(forEvent[0]!.body, forEvent[0]!.headers) as Record<string, unknown>;
    expect(payload).toMatchObject({ id: eventId, type: 'session.started', sessionId, externalUserId: 'student-9', externalAssessmentId: 'exam-9' });
    expect(log).toMatchObject({ id: eventId, status: 'delivered', lastStatusCode: 200 });
    expect(log.attemptLog.filter((a: { statusCode: number | null }) => a.statusCode === 200)).toHaveLength(1);

    await stopChild(second.child, 'SIGTERM');
    expect(second.child.exitCode).toBe(0);
  });
});
