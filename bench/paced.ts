/**
 * An open-loop load generator at a fixed request rate, as wrk2 does (autocannon's fixed-rate mode is not
 * one: each connection sends its per-second quota back to back at the start of every second, so the
 * server sees full-speed bursts with every connection in flight, and its latency correction assumes
 * an interval of 1 ms whatever the rate).
 *
 * Request k is due at start + k / rate. It goes out on a free keep-alive connection as soon as it is
 * due; when every connection is busy it waits for one. Its latency is counted from when it was due,
 * not from when it was sent, so a stalled server is charged for the requests it held back
 * (no coordinated omission).
 */
import http from 'node:http';

export interface PacedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface PacedOptions {
  url: string;
  /** Requests per second. */
  rate: number;
  durationSeconds: number;
  /** Keep-alive connections (the most requests in flight at once). */
  connections: number;
  /** The request to send on connection `connection`; called once per request. */
  request(connection: number): PacedRequest;
}

export interface PacedResult {
  sent: number;
  /** Requests answered with a 2xx status (the latencies are theirs). */
  completed: number;
  /** 2xx answers per second over the run. */
  rps: number;
  /** Connection failures. */
  errors: number;
  /** Answers with another status. */
  non2xx: number;
  /** Latency percentiles in ms, from each request's due time to its last response byte. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

export async function paced(options: PacedOptions): Promise<PacedResult> {
  const { hostname, port } = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const total = Math.round(options.rate * options.durationSeconds);
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  let sent = 0;
  let inFlight = 0;
  const free: number[] = Array.from({ length: options.connections }, (_, i) => i);
  const start = performance.now();

  return new Promise<PacedResult>((resolve) => {
    const finish = () => {
      agent.destroy();
      const elapsed = (performance.now() - start) / 1000;
      latencies.sort((a, b) => a - b);
      resolve({
        sent,
        completed: latencies.length,
        rps: latencies.length / elapsed,
        errors,
        non2xx,
        p50: percentile(latencies, 0.5),
        p90: percentile(latencies, 0.9),
        p99: percentile(latencies, 0.99),
        max: latencies.at(-1) ?? NaN,
      });
    };

    const send = (connection: number, due: number) => {
      const { path, headers, body } = options.request(connection);
      sent++;
      inFlight++;
      const done = (ok: boolean, status = 0) => {
        inFlight--;
        if (!ok) errors++;
        else if (status < 200 || status >= 300) non2xx++;
        else latencies.push(performance.now() - due);
        free.push(connection);
        pump();
      };
      const req = http.request(
        { agent, hostname, port, method: 'POST', path, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.on('data', () => {});
          res.on('end', () => done(true, res.statusCode ?? 0));
          res.on('error', () => done(false));
        },
      );
      req.on('error', () => done(false));
      req.end(body);
    };

    let timer: NodeJS.Timeout | undefined;
    const pump = () => {
      const now = performance.now();
      // Every request due by now goes out while a connection is free; the rest wait for one.
      while (sent < total && free.length > 0) {
        const due = start + (sent * 1000) / options.rate;
        if (due > now) break;
        send(free.shift()!, due);
      }
      if (sent >= total) {
        if (inFlight === 0) finish();
        return;
      }
      if (free.length > 0 && timer === undefined) {
        const due = start + (sent * 1000) / options.rate;
        timer = setTimeout(() => {
          timer = undefined;
          pump();
        }, Math.max(0, due - performance.now()));
      }
    };
    pump();
  });
}
