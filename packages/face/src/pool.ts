import { Worker } from 'node:worker_threads';
import type { AnalysisPart, PartResult } from './analyze.ts';
import type { ImageAnalysis } from './types.ts';
import type { WorkerMessage, WorkerOptions, WorkerRequest } from './worker.ts';

/** Raised by the engine for conditions the caller maps to an HTTP answer. */
export class FaceEngineError extends Error {
  constructor(
    readonly code: 'busy' | 'unavailable' | 'invalid_image',
    message: string,
  ) {
    super(message);
    this.name = 'FaceEngineError';
  }
}

export interface PoolOptions extends WorkerOptions {
  workers: number;
  /** Jobs waiting beyond those running; one more is refused at once with `busy`. */
  maxQueue: number;
  /** A job running longer than this is taken as a hung worker: the worker is replaced. */
  jobTimeoutMs: number;
}

interface Job {
  id: number;
  image: Uint8Array;
  part?: AnalysisPart;
  resolve(result: ImageAnalysis | PartResult): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
  timer?: NodeJS.Timeout;
}

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);

/**
 * A fixed number of worker threads, each holding its own copy of the models, fed from one FIFO queue.
 * A worker that crashes, exits or hangs fails only the job it was running and is replaced.
 */
export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private readonly startup: Promise<void>;
  private started = false;

  constructor(private readonly options: PoolOptions) {
    const loads: Promise<void>[] = [];
    for (let i = 0; i < options.workers; i++) loads.push(this.spawn());
    this.startup = Promise.all(loads).then(() => {
      this.started = true;
    });
    // Failures surface through whenReady(); do not let them become unhandled rejections.
    this.startup.catch(() => {});
  }

  /** Resolves once every worker has loaded its models; rejects if one could not. */
  whenReady(): Promise<void> {
    return this.startup;
  }

  ready(): boolean {
    return this.started && !this.closed && [...this.slots].some((s) => s.ready);
  }

  /** Queue depth and running jobs, for health reports. */
  load(): { running: number; queued: number; workers: number } {
    const running = [...this.slots].filter((s) => s.job).length;
    return { running, queued: this.queue.length, workers: this.slots.size };
  }

  run(image: Uint8Array): Promise<ImageAnalysis> {
    return this.submit(image) as Promise<ImageAnalysis>;
  }

  /** A piece of an analysis (analyze.ts, `analyzePart`), queued like any job. */
  runPart(image: Uint8Array, part: AnalysisPart): Promise<PartResult> {
    return this.submit(image, part) as Promise<PartResult>;
  }

  /** Workers loaded and without a job, when nothing waits: how many could start a job right now. */
  idle(): number {
    if (this.queue.length > 0) return 0;
    return [...this.slots].filter((s) => s.ready && !s.job).length;
  }

  private submit(image: Uint8Array, part?: AnalysisPart): Promise<ImageAnalysis | PartResult> {
    if (this.closed) return Promise.reject(new FaceEngineError('unavailable', 'The face engine is closed.'));
    if (this.queue.length >= this.options.maxQueue) {
      return Promise.reject(new FaceEngineError('busy', 'The face engine is overloaded; retry shortly.'));
    }
    return new Promise((resolve, reject) => {
      // A private copy (not slice(): on a Node Buffer it is a view) whose buffer can be moved to the
      // worker while the caller keeps its bytes.
      this.queue.push({ id: this.nextId++, image: new Uint8Array(image), ...(part ? { part } : {}), resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new FaceEngineError('unavailable', 'The face engine is closed.'));
    await Promise.all([...this.slots].map((slot) => this.retire(slot, new FaceEngineError('unavailable', 'The face engine is closed.'))));
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(ENTRY, { workerData: { modelsDir: this.options.modelsDir, detector: this.options.detector } satisfies WorkerOptions });
      const slot: Slot = { worker, ready: false };
      this.slots.add(slot);
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          slot.ready = true;
          resolve();
          this.dispatch();
        } else if (message.type === 'load_failed') {
          reject(new Error(`face models failed to load: ${message.message}`));
        } else {
          this.finish(slot, message);
        }
      });
      worker.on('error', (err) => {
        if (!slot.ready) reject(err);
        void this.retire(slot, new FaceEngineError('unavailable', `The face worker failed: ${err.message}`));
      });
      worker.on('exit', () => {
        if (!slot.ready) reject(new Error('face worker exited while loading'));
        void this.retire(slot, new FaceEngineError('unavailable', 'The face worker stopped unexpectedly.'));
      });
    });
  }

  /** Removes a worker, fails its job, and (unless closing or still starting) starts a replacement. */
  private async retire(slot: Slot, reason: Error): Promise<void> {
    if (!this.slots.delete(slot)) return;
    clearTimeout(slot.timer);
    slot.job?.reject(reason);
    const wasReady = slot.ready;
    slot.ready = false;
    await slot.worker.terminate().catch(() => {});
    // A worker that never loaded would fail again the same way: only replace ones that had worked.
    if (!this.closed && wasReady) {
      this.spawn().catch(() => {});
    }
  }

  private finish(slot: Slot, message: Extract<WorkerMessage, { id: number }>): void {
    const job = slot.job;
    if (!job || job.id !== message.id) return;
    clearTimeout(slot.timer);
    slot.job = undefined;
    if (message.type === 'result') job.resolve(message.result);
    else job.reject(new Error(`face analysis failed: ${message.message}`));
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.timer = setTimeout(() => {
        void this.retire(slot, new FaceEngineError('unavailable', 'The face analysis took too long.'));
      }, this.options.jobTimeoutMs);
      const request: WorkerRequest = { id: job.id, image: job.image, ...(job.part ? { part: job.part } : {}) };
      slot.worker.postMessage(request, [job.image.buffer as ArrayBuffer]);
    }
  }
}
