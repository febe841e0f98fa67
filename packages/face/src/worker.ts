import { parentPort, workerData } from 'node:worker_threads';
import { analyzeImage, analyzePart, type AnalysisPart, type PartResult } from './analyze.ts';
import type { DetectorStrategy } from './detect.ts';
import { loadModels, type Models } from './models.ts';

/** Messages between the pool and a worker. One job at a time per worker. */
export type WorkerRequest = { id: number; image: Uint8Array; part?: AnalysisPart };
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'load_failed'; message: string }
  | { type: 'result'; id: number; result: import('./types.ts').ImageAnalysis | PartResult }
  | { type: 'error'; id: number; message: string };

export interface WorkerOptions {
  modelsDir?: string;
  /** Detection strategy for every image of this worker (default 'fast'). */
  detector?: DetectorStrategy;
}

const port = parentPort;
if (!port) throw new Error('worker.ts runs inside a worker thread');
const options = (workerData ?? {}) as WorkerOptions;
const send = (message: WorkerMessage) => port.postMessage(message);

// Everything the models need ships in node_modules. Should a library ever reach for a CDN, fail loudly
// instead of fetching silently from inside the server.
globalThis.fetch = () => Promise.reject(new Error('network access is disabled in the face worker'));

let models: Models;
try {
  models = await loadModels(options.modelsDir);
} catch (err) {
  send({ type: 'load_failed', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}

port.on('message', (request: WorkerRequest) => {
  const work = request.part ? analyzePart(models, request.image, request.part) : analyzeImage(models, request.image, options.detector);
  work.then(
    (result) => send({ type: 'result', id: request.id, result }),
    (err: unknown) => send({ type: 'error', id: request.id, message: err instanceof Error ? err.message : String(err) }),
  );
});
send({ type: 'ready' });
