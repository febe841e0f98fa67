/** Shared plumbing of the benchmarks: child servers on free ports, clean-up, machine description. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const dataDirs: string[] = [];

/** A fresh temporary data directory, removed when the process exits. */
export function benchDataDir(): string {
  const dir = mkdtempSync(join(os.tmpdir(), 'sa-bench-'));
  dataDirs.push(dir);
  return dir;
}

/**
 * A fixed single-threaded workload (a JavaScript number-crunching loop), timed: hosts of the same
 * nominal kind differ by 1.5-2x, so every benchmark prints this figure to make runs on different
 * machines comparable. Lower is faster; best of three.
 */
export function calibrationMs(): number {
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    let x = 0;
    for (let i = 1; i < 30_000_000; i++) x += Math.sqrt(i) * ((i & 7) - 3.5);
    if (x === 42) process.stdout.write('');
    best = Math.min(best, performance.now() - t0);
  }
  return Math.round(best);
}

/** The machine, Node version and what else is running: printed first by every benchmark. */
export function machineHeader(runs: string): string {
  const cpus = os.cpus();
  const load = os.loadavg()[0] ?? 0;
  return (
    `Machine: ${cpus.length} CPU(s), ${cpus[0]?.model ?? 'unknown'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; Node ${process.version}\n` +
    `CPU calibration: ${calibrationMs()} ms (bench/lib.ts calibrationMs: a fixed JavaScript loop; lower is faster)\n` +
    `${runs}\n` +
    `Load average (1 min) before the run: ${load.toFixed(2)}${load > 0.5 ? '  (WARNING: something else is using the CPU; figures will be low and noisy)' : ''}\n\n`
  );
}

const children: ChildProcess[] = [];

function cleanup(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

/** Asks the children to shut down and waits (a CPU profile is written on a clean exit). */
export async function stopChildren(): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(force);
            done();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/** Starts `script` under tsx and resolves once `readyPath` answers 200. */
export async function startChild(
  name: string,
  script: string,
  env: Record<string, string>,
  readyPath: string,
  nodeFlags: string[] = [],
): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 50) output.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(url + readyPath)).status === 200) return url;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not start:\n${output.join('')}`);
}

export async function post(url: string, token: string | undefined, body?: unknown): Promise<any> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}


/** Runs a benchmark's main(): exits 0 or with the code main set, 1 with the stack if it threw. */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(),
    (error: unknown) => {
      process.stderr.write(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
