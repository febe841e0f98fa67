/**
 * `npm run bench:api`: throughput and latency of the hot widget endpoints against a bare Hono
 * hello-world, in the same run on the same machine.
 *
 * Starts the real server (SQLite in a fresh temp directory) and the hello-world server as child
 * processes; the load comes from this process. Each connection plays one candidate with its own
 * started session (auto-stop off), as in a real exam where many candidates report at once.
 *
 * - Maximum throughput: autocannon, closed loop (each connection sends its next request as soon as
 *   the previous one is answered).
 * - Latency at a fixed rate: bench/paced.ts, open loop at an even rate, latency counted from when
 *   each request was due (as wrk2 does). autocannon's own fixed-rate mode is printed beside it for
 *   comparison but is not a steady rate: each connection sends its quota for the second back to back
 *   when the second starts, so the server sees bursts of all 50 connections at full speed.
 * - The SQLite floor: the violation's SQL alone on better-sqlite3 in this process (bench/sqlite-floor.ts),
 *   the most a process could serve were HTTP, validation and JSON free.
 *
 * Env: BENCH_DURATION (s per run, default 10), BENCH_CONNECTIONS (50), BENCH_RATE (fixed rate,
 * 2000 req/s), BENCH_WARMUP (s before each run, 2), BENCH_API_NODE_FLAGS (extra node flags for the
 * API server, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it).
 */
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import os from 'node:os';
import { join } from 'node:path';
import { benchDataDir, machineHeader, post, runBench, startChild, stopChildren } from './lib.ts';
import { paced } from './paced.ts';
import { sqliteFloor } from './sqlite-floor.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const FIXED_RATE = Number(process.env.BENCH_RATE ?? 2000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const TARGET_RATIO = 0.4;
const TARGET_P99_MS = 20;
const SAMPLES_PER_REQUEST = 4;

const dataDir = benchDataDir();

/** One integration and `count` started sessions (enrolled directly in SQLite: no face engine yet). */
async function startedSessions(api: string, count: number, webhookUrl?: string): Promise<string[]> {
  const integration = await post(`${api}/api/integrations`, undefined, { name: 'Bench LMS', ...(webhookUrl ? { webhookUrl } : {}) });
  const sessions: { sessionId: string; sessionToken: string }[] = [];
  for (let i = 0; i < count; i++) {
    sessions.push(
      await post(`${api}/api/widget/sessions`, integration.apiKey, {
        externalUserId: `bench-${i}`,
        assessmentTitle: 'Benchmark',
        config: { autoStop: false, maxDurationMinutes: 600 },
      }),
    );
  }
  const db = new Database(join(dataDir, 'secureaccess.db'));
  db.pragma('busy_timeout = 5000');
  const enroll = db.prepare(
    "UPDATE sessions SET enrollment_status = 'enrolled', enrollment_source = 'upload', enrolled_at = ?, score_identity = 100, score_overall = 100 WHERE id = ?",
  );
  db.transaction(() => sessions.forEach((s) => enroll.run(Date.now(), s.sessionId)))();
  db.close();
  for (const s of sessions) await post(`${api}/api/widget/session/start`, s.sessionToken);
  return sessions.map((s) => s.sessionToken);
}

/**
 * After the webhook run: how many events waited in the outbox, and how fast the dispatcher delivered
 * them over the next OUTBOX_WATCH_S seconds (or until it was empty).
 */
const OUTBOX_WATCH_S = 20;
async function watchOutbox(): Promise<{ pendingAtEnd: number; deliveredPerSecond: number; pendingAfter: number; watchedMs: number }> {
  const db = new Database(join(dataDir, 'secureaccess.db'), { readonly: true });
  db.pragma('busy_timeout = 5000');
  const count = (status: string) => (db.prepare('SELECT count(*) AS n FROM webhook_outbox WHERE status = ?').get(status) as { n: number }).n;
  const started = Date.now();
  const pendingAtEnd = count('pending');
  const deliveredBefore = count('delivered');
  while (count('pending') > 0 && Date.now() - started < OUTBOX_WATCH_S * 1000) await new Promise((r) => setTimeout(r, 200));
  const watchedMs = Date.now() - started;
  const result = { pendingAtEnd, deliveredPerSecond: ((count('delivered') - deliveredBefore) * 1000) / watchedMs, pendingAfter: count('pending'), watchedMs };
  db.close();
  return result;
}

type BodyFactory = () => string;

/** Gives each autocannon connection its own session and its own request bodies. */
function perSession(path: string, tokens: string[], makeFactory: (index: number) => BodyFactory): autocannon.Options['setupClient'] {
  let next = 0;
  return (client) => {
    const index = next++ % tokens.length;
    const body = makeFactory(index);
    client.setRequests([
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[index]}` },
        setupRequest: (request) => ({ ...request, body: body() }),
      },
    ]);
  };
}

let violationSeq = 0;
const runTag = Date.now().toString(36);
const violationBody = (index: number): BodyFactory => () =>
  JSON.stringify({ id: `b${runTag}-${index}-${++violationSeq}`, type: 'window_blur', occurredAt: new Date().toISOString() });

/**
 * Samples with strictly increasing timestamps per session, never ahead of the server's clock. One
 * factory per session for the whole bench, so that no run sends samples older than the last run's
 * (the server would skip them, and do less work).
 */
const presenceFactories = new Map<number, BodyFactory>();
const presenceBody = (index: number): BodyFactory => {
  let factory = presenceFactories.get(index);
  if (!factory) {
    let last = 0;
    factory = () => {
      const base = Math.max(last + 1, Date.now() - 1000);
      const samples = Array.from({ length: SAMPLES_PER_REQUEST }, (_, i) => ({ at: new Date(base + i).toISOString(), faces: 1 }));
      last = base + SAMPLES_PER_REQUEST - 1;
      return JSON.stringify({ samples });
    };
    presenceFactories.set(index, factory);
  }
  return factory;
};

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function measure(name: string, options: autocannon.Options): Promise<Row> {
  if (WARMUP > 0) await autocannon({ ...options, duration: WARMUP });
  const result = await autocannon({ ...options, duration: DURATION });
  return {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/** The endpoint at an even FIXED_RATE, open loop (bench/paced.ts), after a warm-up at the same rate. */
async function measurePaced(name: string, api: string, path: string, tokens: string[], makeFactory: (index: number) => BodyFactory): Promise<Row> {
  const run = async (seconds: number) => {
    const bodies = tokens.map((_, i) => makeFactory(i));
    return paced({
      url: api,
      rate: FIXED_RATE,
      durationSeconds: seconds,
      connections: CONNECTIONS,
      request: (connection) => ({
        path,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[connection % tokens.length]}` },
        body: bodies[connection % tokens.length]!(),
      }),
    });
  };
  if (WARMUP > 0) await run(WARMUP);
  const result = await run(DURATION);
  return { name, rps: result.rps, p50: result.p50, p99: result.p99, errors: result.errors, non2xx: result.non2xx };
}

function pad(text: string | number, width: number, left = false): string {
  const s = String(text);
  return left ? s.padEnd(width) : s.padStart(width);
}

const ms = (value: number) => (value >= 10 ? value.toFixed(0) : value.toFixed(1));

async function main(): Promise<void> {
  process.stdout.write(machineHeader(`Runs: ${DURATION} s each (+${WARMUP} s warm-up), ${CONNECTIONS} connections, fixed rate ${FIXED_RATE} req/s`));
  const hello = await startChild('hello-world', 'bench/hello.ts', {}, '/');
  const apiFlags = (process.env.BENCH_API_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const api = await startChild(
    'SecureAccess',
    'packages/server/src/runtimes/node.ts',
    // Private URLs allowed: the webhook receiver is the hello-world process on this machine.
    { SECUREACCESS_DATA_DIR: dataDir, SECUREACCESS_FACE_ENGINE: 'off', SECUREACCESS_ALLOW_PRIVATE_URLS: 'true' },
    '/api/health',
    apiFlags,
  );
  const tokens = await startedSessions(api, CONNECTIONS);
  const hookedTokens = await startedSessions(api, CONNECTIONS, `${hello}/hook`);
  const common = { connections: CONNECTIONS, method: 'POST' as const };
  const violationPath = '/api/widget/session/violation';
  const presencePath = '/api/widget/session/presence';

  const helloRow = await measure('hello-world GET / (max)', { url: hello, connections: CONNECTIONS });
  const violationMax = await measure('POST violation (max)', { ...common, url: api, setupClient: perSession(violationPath, tokens, violationBody) });
  const presenceMax = await measure(`POST presence x${SAMPLES_PER_REQUEST} (max)`, { ...common, url: api, setupClient: perSession(presencePath, tokens, presenceBody) });
  const violationFixed = await measurePaced(`POST violation @${FIXED_RATE}/s`, api, violationPath, tokens, violationBody);
  const presenceFixed = await measurePaced(`POST presence @${FIXED_RATE}/s`, api, presencePath, tokens, presenceBody);
  const rate = { overallRate: FIXED_RATE };
  const violationBurst = await measure(`  autocannon burst: violation`, { ...common, ...rate, url: api, setupClient: perSession(violationPath, tokens, violationBody) });
  const presenceBurst = await measure(`  autocannon burst: presence`, { ...common, ...rate, url: api, setupClient: perSession(presencePath, tokens, presenceBody) });
  // Last, as its outbox keeps the server busy afterwards: every violation also writes a signed event to
  // the outbox, which the same process delivers to the hello-world process.
  const hookedMax = await measure('POST violation, webhooks on (max)', { ...common, url: api, setupClient: perSession(violationPath, hookedTokens, violationBody) });
  const backlog = await watchOutbox();
  await stopChildren();
  const floor = await sqliteFloor(benchDataDir());
  const rows = [helloRow, violationMax, presenceMax, violationFixed, presenceFixed, violationBurst, presenceBurst, hookedMax];

  const header = `${pad('run', 34, true)} ${pad('req/s', 9)} ${pad('p50 ms', 7)} ${pad('p99 ms', 7)} ${pad('errors', 7)} ${pad('non-2xx', 8)} ${pad('vs hello', 9)}`;
  const ratio = (rps: number) => `${((100 * rps) / helloRow.rps).toFixed(1)} %`;
  process.stdout.write(`${header}\n${'-'.repeat(header.length)}\n`);
  for (const row of rows) {
    process.stdout.write(
      `${pad(row.name, 34, true)} ${pad(row.rps.toFixed(0), 9)} ${pad(ms(row.p50), 7)} ${pad(ms(row.p99), 7)} ${pad(row.errors, 7)} ${pad(row.non2xx, 8)} ${pad(row === helloRow ? '' : ratio(row.rps), 9)}\n`,
    );
  }
  process.stdout.write(
    `\n"@${FIXED_RATE}/s": open loop at an even rate (bench/paced.ts), latency from each request's due time.\n` +
      `"autocannon burst": autocannon's overallRate, for comparison: every connection sends its quota for the second\n` +
      `back to back when the second starts, so these latencies are those of ${CONNECTIONS} requests in flight at full speed.\n`,
  );
  process.stdout.write(
    `\nWebhooks on: ${backlog.pendingAtEnd} events waited in the outbox when the run ended; over the next ` +
      `${(backlog.watchedMs / 1000).toFixed(0)} s the dispatcher delivered ${backlog.deliveredPerSecond.toFixed(0)} a second ` +
      `(${backlog.pendingAfter} still waiting; they are delivered later, none is lost).\n`,
  );
  process.stdout.write(
    `\nSQLite floor (a violation's SQL alone on better-sqlite3, no HTTP/JSON/validation, this process):\n` +
      `  one transaction per request     ${pad(floor.ownTransaction.toFixed(0), 7)} req/s  = ${ratio(floor.ownTransaction)} of hello-world\n` +
      `  50 requests per transaction     ${pad(floor.batched.toFixed(0), 7)} req/s  = ${ratio(floor.batched)} of hello-world\n`,
  );

  const verdicts: [string, boolean][] = [
    [`violation max ≥ ${TARGET_RATIO * 100} % of hello-world`, violationMax.rps >= TARGET_RATIO * helloRow.rps],
    [`presence max ≥ ${TARGET_RATIO * 100} % of hello-world`, presenceMax.rps >= TARGET_RATIO * helloRow.rps],
    [`violation p99 ≤ ${TARGET_P99_MS} ms at ${FIXED_RATE} req/s`, violationFixed.p99 <= TARGET_P99_MS && violationFixed.rps >= 0.95 * FIXED_RATE],
    [`presence p99 ≤ ${TARGET_P99_MS} ms at ${FIXED_RATE} req/s`, presenceFixed.p99 <= TARGET_P99_MS && presenceFixed.rps >= 0.95 * FIXED_RATE],
    ['no errors, every answer 2xx', rows.every((r) => r.errors === 0 && r.non2xx === 0)],
  ];
  // The bench itself (server + load generator) adds about 1-2 to the load; well above that, something else ran meanwhile.
  process.stdout.write(`\nLoad average (1 min) after the run: ${os.loadavg()[0]!.toFixed(2)}\n`);
  process.stdout.write('\nTargets\n');
  for (const [label, ok] of verdicts) process.stdout.write(`  ${ok ? 'PASS' : 'FAIL'}  ${label}\n`);
  if (floor.batched < TARGET_RATIO * helloRow.rps) {
    process.stdout.write(
      `  (the ${TARGET_RATIO * 100} % target is above the SQLite floor itself: no server writing a violation durably to SQLite\n` +
        `   reaches it on this machine, whatever its HTTP stack)\n`,
    );
  }
  process.exitCode = verdicts.every(([, ok]) => ok) ? 0 : 1;
}

runBench(main);
