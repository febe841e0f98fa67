/**
 * `npm run bench:face`: one identity verification through the HTTP API — a 640×480 webcam-like JPEG
 * in, decode → detect → embed → match in the worker pool, verdict out — on the real server.
 *
 * Prints the median and p95 of sequential requests (one at a time: the latency a candidate sees) and
 * the throughput with concurrent requests (how many verifications per second this machine sustains).
 * Photos come from ../shared/faces (SECUREACCESS_FACES_DIR overrides).
 *
 * Env: BENCH_FACE_REQUESTS (sequential requests, default 100), BENCH_DURATION (s of the concurrent
 * run, 15), BENCH_CONNECTIONS (concurrent requests, 4), SECUREACCESS_FACE_WORKERS (server workers,
 * default: one per core).
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { benchDataDir, machineHeader, post, runBench, startChild, stopChildren } from './lib.ts';

const REQUESTS = Number(process.env.BENCH_FACE_REQUESTS ?? 100);
const DURATION = Number(process.env.BENCH_DURATION ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
const TARGET_MEDIAN_MS = 100;
const FACES = process.env.SECUREACCESS_FACES_DIR ?? resolve(import.meta.dirname, '../../shared/faces');

/** A 640×480 frame with the person's photo centred on a grey background, as a webcam would give. */
async function webcamFrame(relative: string): Promise<Buffer> {
  const face = await sharp(readFileSync(join(FACES, relative))).resize({ height: 400 }).jpeg().toBuffer();
  const { width = 0, height = 0 } = await sharp(face).metadata();
  return sharp({ create: { width: 640, height: 480, channels: 3, background: '#6b6b6b' } })
    .composite([{ input: face, left: Math.max(0, Math.round((640 - width) / 2)), top: Math.round((480 - height) / 2) }])
    .jpeg({ quality: 85 })
    .toBuffer();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function waitForEngine(api: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    const health = (await (await fetch(`${api}/api/health`)).json()) as { faceEngine: string };
    if (health.faceEngine === 'ready') return Date.now() - started;
    if (Date.now() - started > 60_000) throw new Error(`face engine not ready: ${health.faceEngine}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  process.stdout.write(machineHeader(`Sequential: ${REQUESTS} requests; concurrent: ${CONNECTIONS} connections for ${DURATION} s`));
  const api = await startChild('SecureAccess', 'packages/server/src/runtimes/node.ts', { SECUREACCESS_DATA_DIR: benchDataDir() }, '/api/health');
  const loadMs = await waitForEngine(api);

  const integration = await post(`${api}/api/integrations`, undefined, { name: 'Bench LMS' });
  const session = await post(`${api}/api/widget/sessions`, integration.apiKey, {
    externalUserId: 'bench',
    config: { maxDurationMinutes: 600, autoStop: false },
  });
  const enrollment = readFileSync(join(FACES, 'images/barack_obama/1.jpg')).toString('base64');
  await post(`${api}/api/widget/session/face-enroll`, session.sessionToken, { imageBase64: enrollment, source: 'upload' });
  await post(`${api}/api/widget/session/start`, session.sessionToken);
  const frame = await webcamFrame('images/barack_obama/2.jpg');
  const body = JSON.stringify({ imageBase64: frame.toString('base64') });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${session.sessionToken}` };

  const verifyOnce = async () => {
    const started = performance.now();
    const response = await fetch(`${api}/api/widget/session/verify-identity`, { method: 'POST', headers, body });
    const verdict = (await response.json()) as { match?: boolean; facesDetected?: number };
    if (response.status !== 200 || verdict.match !== true) throw new Error(`unexpected verdict ${response.status} ${JSON.stringify(verdict)}`);
    return performance.now() - started;
  };
  for (let i = 0; i < 5; i++) await verifyOnce();
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) times.push(await verifyOnce());
  times.sort((a, b) => a - b);
  const median = percentile(times, 50);
  const p95 = percentile(times, 95);

  const result = await autocannon({
    url: `${api}/api/widget/session/verify-identity`,
    method: 'POST',
    headers,
    body,
    connections: CONNECTIONS,
    duration: DURATION,
  });

  process.stdout.write(
    `Frame: 640×480 JPEG, ${(frame.length / 1024).toFixed(0)} KiB (${(body.length / 1024).toFixed(0)} KiB as base64 JSON); models loaded in ${(loadMs / 1000).toFixed(1)} s\n\n` +
      `sequential verify-identity   median ${median.toFixed(1)} ms   p95 ${p95.toFixed(1)} ms   (${REQUESTS} requests)\n` +
      `concurrent verify-identity   ${result.requests.average.toFixed(1)} verifications/s   p50 ${result.latency.p50} ms   p99 ${result.latency.p99} ms   ` +
      `errors ${result.errors + result.timeouts}   non-2xx ${result.non2xx}\n\n` +
      `Target: median ≤ ${TARGET_MEDIAN_MS} ms  ${median <= TARGET_MEDIAN_MS ? 'PASS' : 'FAIL'}\n`,
  );
  process.exitCode = median <= TARGET_MEDIAN_MS ? 0 : 1;
  await stopChildren();
}

runBench(main);
