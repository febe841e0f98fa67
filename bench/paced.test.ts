import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { paced } from './paced.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

/** A local server; `delayFor(n)` is how long it holds the n-th request (from 0) before answering. */
async function start(delayFor: (n: number) => number, status = 200): Promise<string> {
  let n = 0;
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.writeHead(status).end('ok'), delayFor(n++)));
  });
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', () => done()));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

const request = () => ({ path: '/', headers: { 'content-type': 'application/json' }, body: '{}' });

describe('paced (open-loop load at a fixed rate)', () => {
  it('sends rate × duration requests at that rate', async () => {
    const url = await start(() => 0);
    const started = performance.now();
    const result = await paced({ url, rate: 400, durationSeconds: 1, connections: 8, request });
    const elapsed = performance.now() - started;
    expect(result.sent).toBe(400);
    expect(result.completed).toBe(400);
    expect(result.errors + result.non2xx).toBe(0);
    // The last request is due at 997.5 ms: the run cannot end sooner, and an idle server keeps up.
    expect(elapsed).toBeGreaterThanOrEqual(990);
    expect(elapsed).toBeLessThan(1500);
    expect(result.p50).toBeLessThan(20);
  });

  it('charges a stall to every request that was due during it, not only to the ones in flight', async () => {
    // The first request is held 300 ms; with 1 connection the ~60 requests due meanwhile wait for it.
    // A closed-loop client would report one slow request; counted from their due times, ~20 % are slow.
    const url = await start((n) => (n === 0 ? 300 : 0));
    const result = await paced({ url, rate: 200, durationSeconds: 1.5, connections: 1, request });
    expect(result.completed).toBe(300);
    expect(result.max).toBeGreaterThanOrEqual(300);
    expect(result.p90).toBeGreaterThan(50);
    expect(result.p50).toBeLessThan(50);
  });

  it('counts non-2xx answers apart from the latencies', async () => {
    const url = await start(() => 0, 503);
    const result = await paced({ url, rate: 100, durationSeconds: 0.5, connections: 2, request });
    expect(result.sent).toBe(50);
    expect(result.non2xx).toBe(50);
    expect(result.completed).toBe(0);
  });
});
