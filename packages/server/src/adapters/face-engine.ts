import { createFaceEngine, FaceEngineError, type FaceEngineHandle, type FaceEngineOptions } from '@secureaccess/face';
import { FaceEngineFailure, type FaceEngine, type FaceEnrollResult, type FaceVerifyResult } from '../core/ports.ts';

/**
 * The FaceEngine port on @secureaccess/face: models in worker threads (tfjs-wasm), so inference never
 * runs on the request thread. Engine errors become the port's FaceEngineFailure.
 */
export class WorkerFaceEngine implements FaceEngine {
  private constructor(private readonly handle: FaceEngineHandle) {}

  /** Starts the workers; models load in the background (`ready()` turns true, `whenReady()` resolves). */
  static async start(options: Omit<FaceEngineOptions, 'waitUntilReady'> = {}): Promise<WorkerFaceEngine> {
    return new WorkerFaceEngine(await createFaceEngine({ ...options, waitUntilReady: false }));
  }

  ready(): boolean {
    return this.handle.ready();
  }

  whenReady(): Promise<void> {
    return this.handle.whenReady();
  }

  enroll(image: Uint8Array): Promise<FaceEnrollResult> {
    return translate(() => this.handle.enroll(image));
  }

  verify(image: Uint8Array, template: Uint8Array): Promise<FaceVerifyResult> {
    return translate(() => this.handle.verify(image, template));
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

async function translate<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof FaceEngineError) throw new FaceEngineFailure(error.code, error.message);
    throw error;
  }
}
