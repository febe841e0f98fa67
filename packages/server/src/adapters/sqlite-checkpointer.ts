import type { Kysely } from 'kysely';
import { Worker } from 'node:worker_threads';
import type { Database as Schema } from '../core/db/schema.ts';

export interface WalCheckpointerOptions {
  /** How often the WAL is copied back into the database file in the background. */
  intervalMs: number;
  /**
   * WAL length (pages) past which the log is rewound to its beginning. Below the server connection's
   * wal_autocheckpoint, which stays as the fallback should the worker fail.
   */
  restartFrames: number;
}

const DEFAULTS: WalCheckpointerOptions = { intervalMs: 100, restartFrames: 8000 };

interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

/**
 * Keeps SQLite's WAL checkpoints off the event loop.
 *
 * With synchronous=NORMAL a commit does not sync, but a checkpoint syncs the WAL and the database
 * file: on this kind of disk ~20 ms for a 10,000-page WAL, during which an automatic checkpoint
 * blocks every request (a p99 spike every second or so at 2,000 commits/s). Here a worker thread with
 * its own connection checkpoints every `intervalMs` (PASSIVE: it never blocks the server's connection).
 *
 * A PASSIVE checkpoint cannot catch up with a busy writer, and SQLite only rewinds the WAL once it is
 * entirely copied. So when the WAL passes `restartFrames`, the checkpointer holds Kysely's connection
 * (queries queue; the event loop runs on) while the worker copies the few pages written since its last
 * pass; the next commit then starts the WAL from its beginning again.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly pending = new Map<number, (result: CheckpointResult | Error) => void>();
  private nextId = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    file: string,
    private readonly db: Kysely<Schema>,
    private readonly onFailure: (error: Error) => void,
    private readonly options: WalCheckpointerOptions = DEFAULTS,
  ) {
    this.worker = new Worker(new URL('./sqlite-checkpoint-worker.mjs', import.meta.url), { workerData: { file } });
    this.worker.unref();
    this.worker.on('message', (message: { id: number; error?: string } & CheckpointResult) => {
      const settle = this.pending.get(message.id);
      this.pending.delete(message.id);
      settle?.(message.error === undefined ? message : new Error(message.error));
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => {
      this.settleAll(new Error('The WAL checkpoint worker has exited.'));
      this.fail(new Error(`WAL checkpoint worker exited (code ${code})`));
    });
    this.schedule();
  }

  /** Stops the background checkpoints and waits for the worker to close its connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    const exited = new Promise<void>((done) => this.worker.once('exit', () => done()));
    // Referenced while closing: otherwise a process with nothing else to do would exit before the
    // worker has closed its connection, and the caller's `await stop()` would never return.
    this.worker.ref();
    this.worker.postMessage({ mode: 'CLOSE' });
    await exited;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.checkpoint().finally(() => this.schedule()), this.options.intervalMs);
    this.timer.unref();
  }

  /** One pass: copy the WAL back, and rewind it if it has grown long. The timer runs it; tests may too. */
  async checkpoint(): Promise<void> {
    try {
      const { log } = await this.ask('PASSIVE');
      if (log >= this.options.restartFrames && !this.stopped) {
        await this.db.connection().execute(() => this.ask('RESTART'));
      }
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private ask(mode: 'PASSIVE' | 'RESTART'): Promise<CheckpointResult> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, (result) => (result instanceof Error ? reject(result) : resolve(result)));
      this.worker.postMessage({ id, mode });
    });
  }

  private settleAll(error: Error): void {
    for (const settle of this.pending.values()) settle(error);
    this.pending.clear();
  }

  /** Gives up after a failure: the connection's automatic checkpoints carry on alone. */
  private fail(error: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.settleAll(error);
    void this.worker.terminate();
    this.onFailure(error);
  }
}
