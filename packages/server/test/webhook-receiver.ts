import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
  /** The status this receiver answered with. */
  status: number;
}

/**
 * A real HTTP webhook receiver on 127.0.0.1 (node:http). It records every request and answers with
 * the queued statuses in order, then `defaultStatus`. `hold()` keeps the next request waiting until
 * released, to observe a delivery while it is in flight.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Statuses for the next requests, in order. */
  responses: number[] = [];
  defaultStatus = 200;
  private gate: Promise<void> | null = null;
  private arrived: (() => void) | null = null;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(port = 0): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | null = null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        void receiver!.answer(req.headers, Buffer.concat(chunks).toString('utf8'), (status) => {
          res.writeHead(status, { 'content-type': 'text/plain' });
          res.end(status >= 200 && status < 300 ? 'ok' : `receiver says ${status}`);
        });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    receiver = new WebhookReceiver(server, (server.address() as AddressInfo).port);
    return receiver;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /**
   * Makes the next request wait. Resolves `arrived` once it is being held; call `release` to answer it.
   */
  hold(): { arrived: Promise<void>; release: () => void } {
    let release!: () => void;
    this.gate = new Promise<void>((resolve) => (release = resolve));
    const arrived = new Promise<void>((resolve) => (this.arrived = resolve));
    return { arrived, release };
  }

  private async answer(rawHeaders: NodeJS.Dict<string | string[]>, body: string, send: (status: number) => void): Promise<void> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(rawHeaders)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const gate = this.gate;
    if (gate) {
      this.gate = null;
      this.arrived?.();
      this.arrived = null;
      await gate;
    }
    const status = this.responses.shift() ?? this.defaultStatus;
    this.received.push({ headers, body, status });
    send(status);
  }

  /** Payloads received, parsed. */
  payloads(): Record<string, unknown>[] {
    return this.received.map((r) => JSON.parse(r.body) as Record<string, unknown>);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
