/**
 * The floor under `POST /api/widget/session/violation`: the SQL statements the server runs for one
 * violation, run directly on better-sqlite3 (synchronous, prepared once, no HTTP, no JSON, no Kysely)
 * against the server's own schema, with the server's pragmas (WAL, synchronous=NORMAL, foreign keys).
 *
 * Per request: the session and its integration by token hash (auth), the session again inside the
 * transaction, the violation insert (on conflict do nothing), the session update (counters, scores)
 * and a score point. "own transaction" commits each request on its own, as the server does; "50 per
 * transaction" shares one commit between 50 requests (what group commit could at best reach).
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openSqlite } from '../packages/server/src/adapters/sqlite.ts';

export interface FloorResult {
  /** Requests per second with one transaction per request. */
  ownTransaction: number;
  /** Requests per second with 50 requests per transaction. */
  batched: number;
}

const SESSIONS = 50;

export async function sqliteFloor(dir: string, requests = 40_000): Promise<FloorResult> {
  const file = join(dir, 'floor.db');
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  // The server's migrations make the schema; its own connection is closed before the measurement.
  await (await openSqlite(file, silent)).close();

  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('wal_autocheckpoint = 10000');
  const now = Date.now();
  db.prepare(
    "INSERT INTO integrations (id, name, api_key_hash, api_key_prefix, webhook_secret_sealed, created_at, updated_at) VALUES ('int_floor', 'floor', 'hash', 'sa_live_', 'sealed', ?, ?)",
  ).run(now, now);
  const tokenHashes: string[] = [];
  const insertSession = db.prepare(
    "INSERT INTO sessions (id, integration_id, token_hash, assessment_type, config, status, created_at, expires_at, started_at, enrollment_status) VALUES (?, 'int_floor', ?, 'recording', '{}', 'in_progress', ?, ?, ?, 'enrolled')",
  );
  for (let i = 0; i < SESSIONS; i++) {
    const hash = randomBytes(32).toString('hex');
    tokenHashes.push(hash);
    insertSession.run(`ses_floor${i}`, hash, now, now + 86_400_000, now);
  }

  const byToken = db.prepare(
    'SELECT sessions.*, integrations.webhook_url AS i_webhook_url, integrations.allowed_origins AS i_allowed_origins, integrations.name AS i_name FROM sessions INNER JOIN integrations ON integrations.id = sessions.integration_id WHERE sessions.token_hash = ?',
  );
  const byId = db.prepare('SELECT * FROM sessions WHERE id = ?');
  const insertViolation = db.prepare(
    'INSERT INTO violations (id, session_id, client_id, type, category, severity, source, occurred_at, received_at, duration_ms, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, client_id) DO NOTHING',
  );
  const updateSession = db.prepare('UPDATE sessions SET count_low = ?, behavioral_low = ?, score_overall = ?, score_behavioral = ? WHERE id = ?');
  const insertPoint = db.prepare('INSERT INTO score_points (session_id, at, overall, identity, presence, behavioral) VALUES (?, ?, ?, ?, ?, ?)');
  const begin = db.prepare('BEGIN');
  const commit = db.prepare('COMMIT');

  let seq = 0;
  const violation = (i: number) => {
    byToken.get(tokenHashes[i % SESSIONS]);
    const row = byId.get(`ses_floor${i % SESSIONS}`) as { id: string; count_low: number; behavioral_low: number };
    const at = Date.now();
    insertViolation.run(`vio_${randomBytes(10).toString('hex')}`, row.id, `floor-${++seq}`, 'window_blur', 'behavioral', 'low', 'client', at, at, null, null);
    updateSession.run(row.count_low + 1, row.behavioral_low + 1, 99.4, 98, row.id);
    insertPoint.run(row.id, at, 99.4, 100, 100, 98);
  };
  const run = (perTransaction: number) => {
    const started = performance.now();
    for (let i = 0; i < requests; i += perTransaction) {
      begin.run();
      for (let j = 0; j < perTransaction; j++) violation(i + j);
      commit.run();
    }
    return (requests * 1000) / (performance.now() - started);
  };
  run(1); // warm-up
  const result = { ownTransaction: run(1), batched: run(50) };
  db.close();
  return result;
}
