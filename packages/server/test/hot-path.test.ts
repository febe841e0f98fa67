import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeHasher } from '../src/adapters/node-hasher.ts';
import { openSqlite } from '../src/adapters/sqlite.ts';
import { WalCheckpointer } from '../src/adapters/sqlite-checkpointer.ts';
import { sha256Hex, webCryptoHasher } from '../src/core/crypto.ts';
import { PreparedQuery } from '../src/core/db/prepared.ts';
import type { Database as Schema } from '../src/core/db/schema.ts';
import { startNodeServer, type RunningServer } from '../src/runtimes/node.ts';
import { createIntegration, eventId, makeTestApp, startedSession, type TestApp } from './helpers.ts';

describe('CredentialHasher adapters', () => {
  it.each([
    ['Web Crypto', webCryptoHasher],
    ['Node', nodeHasher],
  ])('%s gives the standard SHA-256 hex digest', async (_name, hasher) => {
    expect(await hasher.sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const token = 'sa_sess_é✓-token';
    expect(await hasher.sha256Hex(token)).toBe(await sha256Hex(token));
  });
});

describe('PreparedQuery', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => t.close());

  const nameById = new PreparedQuery((db, p: { id: string }) => db.selectFrom('integrations').select(['id', 'name']).where('id', '=', p.id));
  const rename = new PreparedQuery((db, { whereId, ...set }: { whereId: string; name?: string; webhook_url?: string | null }) =>
    db.updateTable('integrations').set(set).where('id', '=', whereId),
  );

  it('runs the compiled statement with each call’s values, per shape of parameters', async () => {
    const a = await createIntegration(t, { name: 'A' });
    const b = await createIntegration(t, { name: 'B' });
    expect(await nameById.first(t.deps.db, { id: a.id })).toEqual({ id: a.id, name: 'A' });
    expect(await nameById.first(t.deps.db, { id: b.id })).toEqual({ id: b.id, name: 'B' });
    expect(await nameById.first(t.deps.db, { id: 'int_missing' })).toBeUndefined();

    await rename.run(t.deps.db, { whereId: a.id, name: 'A2' });
    await rename.run(t.deps.db, { whereId: b.id, webhook_url: 'https://lms.example/hook', name: undefined });
    const rows = await t.deps.db.selectFrom('integrations').select(['id', 'name', 'webhook_url']).orderBy('name').execute();
    expect(rows).toEqual([
      { id: a.id, name: 'A2', webhook_url: null },
      { id: b.id, name: 'B', webhook_url: 'https://lms.example/hook' },
    ]);
  });

  it('runs inside a transaction and rolls back with it', async () => {
    const a = await createIntegration(t, { name: 'A' });
    await expect(
      t.deps.db.transaction().execute(async (trx) => {
        await rename.run(t.deps.db, { whereId: a.id, name: 'changed' }, trx);
        expect(await nameById.first(t.deps.db, { id: a.id }, trx)).toMatchObject({ name: 'changed' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await nameById.first(t.deps.db, { id: a.id })).toMatchObject({ name: 'A' });
  });

  it('refuses a builder that does not pass its parameters through as values', async () => {
    const transformed = new PreparedQuery((db, p: { id: string }) => db.selectFrom('integrations').selectAll().where('id', '=', `int_${p.id}`));
    await expect(transformed.run(t.deps.db, { id: 'x' })).rejects.toThrow(/transformed/);
    const ignored = new PreparedQuery((db, _p: { id: string }) => db.selectFrom('integrations').selectAll());
    await expect(ignored.run(t.deps.db, { id: 'x' })).rejects.toThrow(/not used as values: id/);
  });
});

describe('repeated violation ids', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => t.close());

  it('answers the first recording after the session ended, and 409 for a new id', async () => {
    const { session } = await startedSession(t);
    const id = eventId();
    const body = { id, type: 'copy_paste', occurredAt: new Date(t.clock.now()).toISOString() };
    const first = await t.call('POST', '/api/widget/session/violation', { token: session.sessionToken, body });
    expect(first.status).toBe(201);
    expect((await t.call('POST', '/api/widget/session/complete', { token: session.sessionToken })).status).toBe(200);

    const again = await t.call('POST', '/api/widget/session/violation', { token: session.sessionToken, body });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ duplicate: true, status: 'completed', violation: { id: first.body.violation.id }, violationCounts: { medium: 1 } });
    const fresh = await t.call('POST', '/api/widget/session/violation', { token: session.sessionToken, body: { ...body, id: eventId() } });
    expect(fresh.status).toBe(409);
    expect(fresh.body.error.code).toBe('session_not_in_progress');
    expect(await t.deps.db.selectFrom('violations').selectAll().execute()).toHaveLength(1);
  });
});

/** Sends a raw HTTP request (chunked when `contentLength` is null) and returns status and JSON body. */
function rawPost(url: string, path: string, token: string, body: string, contentLength: number | null): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    if (contentLength !== null) headers['content-length'] = String(contentLength);
    const req = request(`${url}${path}`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    if (contentLength === null) {
      // Two chunks, no Content-Length: the Web Request path reads it.
      req.write(body.slice(0, 10));
      setTimeout(() => req.end(body.slice(10)), 10);
    } else {
      req.end(body);
    }
  });
}

describe('Node runtime over HTTP (body reader, checkpointer)', () => {
  let server: RunningServer;
  let dataDir: string;
  const faceEngineSetting = process.env.SECUREACCESS_FACE_ENGINE;
  beforeEach(async () => {
    process.env.SECUREACCESS_FACE_ENGINE = 'off';
    dataDir = mkdtempSync(join(tmpdir(), 'sa-http-'));
    server = await startNodeServer({ port: 0, host: '127.0.0.1', dataDir });
  });
  afterEach(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (faceEngineSetting === undefined) delete process.env.SECUREACCESS_FACE_ENGINE;
    else process.env.SECUREACCESS_FACE_ENGINE = faceEngineSetting;
  });

  async function startedOverHttp() {
    const post = async (path: string, token: string | undefined, body: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const integration = (await post('/api/integrations', undefined, { name: 'HTTP LMS' })).body;
    const session = (await post('/api/widget/sessions', integration.apiKey, { externalUserId: 'u1' })).body;
    await server.deps.db.updateTable('sessions').set({ enrollment_status: 'enrolled', enrolled_at: Date.now() }).where('id', '=', session.sessionId).execute();
    expect((await post('/api/widget/session/start', session.sessionToken, {})).status).toBe(200);
    return session as { sessionId: string; sessionToken: string };
  }

  it('reads bodies with and without Content-Length, and refuses a declared length over the limit with 413', async () => {
    const session = await startedOverHttp();
    const violation = (id: string) => JSON.stringify({ id, type: 'tab_switch', occurredAt: new Date().toISOString() });
    const sized = violation(eventId());
    const withLength = await rawPost(server.url, '/api/widget/session/violation', session.sessionToken, sized, Buffer.byteLength(sized));
    expect(withLength.status).toBe(201);
    const chunked = await rawPost(server.url, '/api/widget/session/violation', session.sessionToken, violation(eventId()), null);
    expect(chunked.status).toBe(201);
    expect(chunked.body.violationCounts.medium).toBe(2);

    const huge = JSON.stringify({ id: eventId(), type: 'tab_switch', occurredAt: new Date().toISOString(), details: { pad: 'x'.repeat(300 * 1024) } });
    const tooLarge = await rawPost(server.url, '/api/widget/session/violation', session.sessionToken, huge, Buffer.byteLength(huge));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error.code).toBe('payload_too_large');
    const stored = await server.deps.db.selectFrom('violations').select('session_id').execute();
    expect(stored).toEqual([{ session_id: session.sessionId }, { session_id: session.sessionId }]);
  });

  it('keeps the data after a restart on the same directory', async () => {
    const session = await startedOverHttp();
    const body = JSON.stringify({ id: eventId(), type: 'window_blur', occurredAt: new Date().toISOString() });
    expect((await rawPost(server.url, '/api/widget/session/violation', session.sessionToken, body, Buffer.byteLength(body))).status).toBe(201);
    await server.close();
    server = await startNodeServer({ port: 0, host: '127.0.0.1', dataDir });
    const row = await server.deps.db.selectFrom('sessions').select(['status', 'count_low']).where('id', '=', session.sessionId).executeTakeFirst();
    expect(row).toEqual({ status: 'in_progress', count_low: 1 });
  });
});

describe('WalCheckpointer', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sa-wal-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** WAL length in pages, as SQLite reports it to another connection. */
  function walFrames(file: string): number {
    const probe = new Database(file);
    try {
      const [result] = probe.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
      return result!.log;
    } finally {
      probe.close();
    }
  }

  it('copies the WAL back and rewinds it while the server keeps writing, without automatic checkpoints', async () => {
    const file = join(dir, 'db.sqlite');
    const { close } = await openSqlite(file, { info() {}, warn() {}, error() {} });
    await close();
    const sqlite = new Database(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('wal_autocheckpoint = 0');
    const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) });
    const failures: Error[] = [];
    const checkpointer = new WalCheckpointer(file, db, (error) => failures.push(error), { intervalMs: 3_600_000, restartFrames: 50 });
    const integration = { name: 'n', webhook_url: null, allowed_origins: '[]', retention_days: 30, default_session_config: '{}', api_key_prefix: 'p', webhook_secret_sealed: 's', created_at: 0, updated_at: 0 };
    // Writes go on while each checkpoint runs (the event loop turns between them), so the WAL is rarely
    // idle when a pass ends: the checkpointer's own rewind has to keep it short.
    const writes = 3000;
    let pass: Promise<void> = Promise.resolve();
    for (let i = 0; i < writes; i++) {
      if (i % 100 === 0) {
        await pass;
        pass = checkpointer.checkpoint();
      }
      await db.insertInto('integrations').values({ ...integration, id: `int_${i}`, api_key_hash: `h${i}` }).execute();
      await new Promise((r) => setImmediate(r));
    }
    await pass;
    await checkpointer.stop();
    // Each insert appends at least one page: without the checkpointer the WAL would hold them all.
    expect(walFrames(file)).toBeLessThan(writes / 2);
    expect(failures).toEqual([]);
    expect((await db.selectFrom('integrations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n).toBe(writes);
    await db.destroy();
  });

  it('lets a process with nothing else to do await close(): the database is closed and the process goes on', async () => {
    // Before the fix, the unreferenced worker let Node exit in the middle of `await close()` (code 13 for a
    // top-level await), so nothing after it ran and the connection was never closed.
    const script = join(dir, 'close.mts');
    const adapter = fileURLToPath(new URL('../src/adapters/sqlite.ts', import.meta.url));
    writeFileSync(
      script,
      `import { openSqlite } from ${JSON.stringify(adapter)};\n` +
        `const handle = await openSqlite(${JSON.stringify(join(dir, 'db.sqlite'))}, { info() {}, warn() {}, error() {} });\n` +
        `await handle.close();\n` +
        `process.stdout.write('closed');\n`,
    );
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      const child = execFile(process.execPath, ['--import', 'tsx', script], { cwd: fileURLToPath(new URL('../../..', import.meta.url)), timeout: 30_000 }, (_error, stdout, stderr) =>
        done({ code: child.exitCode, stdout, stderr }),
      );
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('closed');
    expect(result.code).toBe(0);
  });
});
