import { Webhook } from 'standardwebhooks';
import type { AppDeps } from '../deps.ts';
import { UrlNotAllowedError } from '../ports.ts';

/** Largest part of a receiver's error body kept in the delivery log. */
const MAX_ERROR_TEXT = 300;
/** Time a lease outlives the request timeout, for recording the attempt. */
const LEASE_MARGIN_MS = 5_000;

export interface DispatchStats {
  attempted: number;
  delivered: number;
  failed: number;
}

/**
 * Delivers webhook outbox rows: signs each with the integration's secret (Standard Webhooks), POSTs it,
 * records the attempt, and on failure schedules the next try from `webhookRetryScheduleMs`. A row is
 * leased (`locked_until`) while in flight, so a crashed process's deliveries are taken over once the
 * lease runs out, and two workers never send the same attempt.
 *
 * Each session's events go out one after another, in the order they happened; different sessions'
 * events go out in parallel (up to `concurrency` requests at once). A failed event waiting for its
 * retry does not hold back the events after it. While the outbox holds more than a batch, batches
 * follow each other without waiting for the poll interval.
 */
export class WebhookDispatcher {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  /** The last run found a full batch: more rows are probably due. */
  private backlog = false;

  constructor(
    private readonly deps: AppDeps,
    private readonly options: { pollIntervalMs: number; batchSize: number; concurrency: number } = { pollIntervalMs: 1000, batchSize: 200, concurrency: 16 },
  ) {}

  /** Starts polling. `poke()` also triggers an immediate run. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops polling and waits for the run in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.runOnce()
        .then(() => undefined)
        .catch((error: unknown) => this.deps.logger.error('webhook dispatch failed', { error: String(error) }))
        .finally(() => {
          this.running = null;
          const next = this.again || this.backlog ? 0 : this.options.pollIntervalMs;
          this.again = false;
          this.schedule(next);
        });
    }, delayMs);
  }

  /** Delivers up to a batch of due rows once (oldest first, in order within a session). */
  async runOnce(): Promise<DispatchStats> {
    const { db, clock } = this.deps;
    const stats: DispatchStats = { attempted: 0, delivered: 0, failed: 0 };
    const now = clock.now();
    const due = await db
      .selectFrom('webhook_outbox')
      .select(['id', 'integration_id', 'session_id', 'seq'])
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
      .orderBy('seq')
      .limit(this.options.batchSize)
      .execute();
    this.backlog = due.length === this.options.batchSize;
    if (due.length === 0) return stats;

    // Sessions are served in parallel; each one's events go out one after another, in order.
    const lanes = new Map<string, string[]>();
    for (const row of due) {
      const key = `${row.integration_id}/${row.session_id ?? ''}`;
      const lane = lanes.get(key) ?? [];
      lane.push(row.id);
      lanes.set(key, lane);
    }
    const waiting = [...lanes.values()];
    const worker = async () => {
      for (let lane = waiting.shift(); lane; lane = waiting.shift()) await this.deliverInOrder(lane, stats);
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, waiting.length) }, worker));
    return stats;
  }

  /**
   * Sends one session's due rows one after another. The rows are leased up front, and before each
   * attempt the leases of the rows still waiting are renewed: a lease taken once for the whole batch
   * would run out while rows wait behind a slow receiver, and another worker would send them as well.
   */
  private async deliverInOrder(ids: string[], stats: DispatchStats): Promise<void> {
    const { db } = this.deps;
    let lease = this.newLease();
    let queue: string[] = [];
    for (const id of ids) if (await this.take(id, lease)) queue.push(id);
    while (queue.length > 0) {
      const held = lease;
      lease = this.newLease();
      const renewed = await db
        .updateTable('webhook_outbox')
        .set({ locked_until: lease })
        .where('id', 'in', queue)
        .where('status', '=', 'pending')
        .where('locked_until', '=', held)
        .executeTakeFirst();
      if (Number(renewed.numUpdatedRows) !== queue.length) {
        // Some lease ran out (a stalled process) and another worker took the row: it is theirs now.
        const still = await db.selectFrom('webhook_outbox').select('id').where('id', 'in', queue).where('locked_until', '=', lease).execute();
        const ours = new Set(still.map((row) => row.id));
        queue = queue.filter((id) => ours.has(id));
      }
      const id = queue.shift();
      if (id === undefined) break;
      const ok = await this.deliver(id, lease);
      stats.attempted++;
      if (ok) stats.delivered++;
      else stats.failed++;
    }
  }

  /**
   * A lease's expiry, which also serves as its holder's token: the random milliseconds keep two workers
   * leasing at the same instant from holding the same value.
   */
  private newLease(): number {
    return this.deps.clock.now() + this.deps.config.webhookTimeoutMs + LEASE_MARGIN_MS + Math.floor(Math.random() * 1000);
  }

  /** Leases a row that is due and not leased by anyone. Returns whether this worker now holds it. */
  private async take(id: string, lease: number): Promise<boolean> {
    const now = this.deps.clock.now();
    const result = await this.deps.db
      .updateTable('webhook_outbox')
      .set({ locked_until: lease })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** One attempt for one row. Returns whether the receiver acknowledged it (2xx). */
  private async deliver(id: string, lease: number): Promise<boolean> {
    const { db, clock, config, secrets, outbound, logger } = this.deps;
    const row = await db
      .selectFrom('webhook_outbox')
      .innerJoin('integrations', 'integrations.id', 'webhook_outbox.integration_id')
      .selectAll('webhook_outbox')
      .select(['integrations.webhook_url', 'integrations.webhook_secret_sealed'])
      .where('webhook_outbox.id', '=', id)
      .executeTakeFirst();
    if (!row || row.status !== 'pending' || Number(row.locked_until) !== lease) return false;

    const attempt = row.attempts + 1;
    const started = clock.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    const url = row.webhook_url;
    if (!url) {
      error = 'The integration has no webhook URL.';
    } else {
      try {
        const secret = await secrets.open(row.webhook_secret_sealed);
        const timestamp = new Date(started);
        const signature = new Webhook(secret).sign(row.id, timestamp, row.payload);
        const response = await outbound.fetch(url, {
          method: 'POST',
          timeoutMs: config.webhookTimeoutMs,
          headers: {
            'content-type': 'application/json',
            'user-agent': `SecureAccess-Webhooks/${config.version}`,
            'webhook-id': row.id,
            'webhook-timestamp': String(Math.floor(started / 1000)),
            'webhook-signature': signature,
          },
          body: row.payload,
        });
        statusCode = response.status;
        if (response.status < 200 || response.status >= 300) {
          const text = await readSnippet(response, MAX_ERROR_TEXT);
          error = `HTTP ${response.status}${text ? `: ${text.slice(0, MAX_ERROR_TEXT)}` : ''}`;
        } else {
          await response.body?.cancel().catch(() => undefined);
        }
      } catch (caught) {
        error = describeFetchError(caught);
      }
    }

    const finished = clock.now();
    const ok = error === null;
    // The schedule restarts at a manual redelivery: `retry_base` is the attempt count at that moment.
    const delay = config.webhookRetryScheduleMs[attempt - 1 - row.retry_base];
    const status = ok ? 'delivered' : delay === undefined ? 'failed' : 'pending';
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('webhook_attempts')
        .values({ delivery_id: row.id, attempt, at: started, url, status_code: statusCode, error, duration_ms: finished - started })
        .execute();
      await trx
        .updateTable('webhook_outbox')
        .set({
          status,
          attempts: attempt,
          locked_until: null,
          last_status_code: statusCode,
          last_error: error,
          last_url: url,
          next_attempt_at: status === 'pending' ? finished + (delay ?? 0) : null,
          delivered_at: ok ? finished : null,
        })
        .where('id', '=', row.id)
        // Only while the lease is still ours: a worker that took the row over owns its state now.
        .where('locked_until', '=', lease)
        .execute();
    });
    if (!ok) logger.warn('webhook attempt failed', { deliveryId: row.id, attempt, statusCode, error, final: status === 'failed' });
    return ok;
  }
}

/** The start of a response body, decoded, reading no more than needed (a receiver may send gigabytes). */
async function readSnippet(response: Response, maxChars: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < maxChars * 4) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } catch {
    // A body cut off or timed out still leaves what arrived.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes).slice(0, maxChars).trim();
}

function describeFetchError(error: unknown): string {
  if (error instanceof UrlNotAllowedError) return `Refused: ${error.message}`;
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'Timed out waiting for the receiver.';
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof UrlNotAllowedError) return `Refused: ${cause.message}`;
    if (cause instanceof Error) return `${error.message}: ${cause.message}`;
    return error.message;
  }
  return String(error);
}
