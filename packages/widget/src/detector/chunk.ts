/**
 * The lazily loaded detector chunk (`/widget/detector.js`): face-api's tiny face detector on tfjs,
 * WASM backend first (SIMD where the browser has it), then WebGL, then plain JavaScript. The widget
 * imports it only once the candidate has consented, so the script-tag bundle stays small.
 */
import * as faceapi from '@vladmandic/face-api/dist/face-api.esm-nobundle.js';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { FaceCounter, FaceCounterOptions } from './types.ts';

const BACKENDS = ['wasm', 'webgl', 'cpu'] as const;

async function pickBackend(preferred: readonly string[]): Promise<string> {
  for (const name of preferred) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch {
      // Try the next one.
    }
  }
  throw new Error('no tfjs backend could start');
}

/** Loads the models from `assetsUrl` (…/widget/) and returns a face counter. */
export async function createFaceCounter(assetsUrl: string, options: FaceCounterOptions = {}): Promise<FaceCounter> {
  setWasmPaths(new URL('wasm/', assetsUrl).toString());
  const backend = await pickBackend(options.backends ?? BACKENDS);
  await faceapi.nets.tinyFaceDetector.loadFromUri(new URL('models', assetsUrl).toString());
  const detectorOptions = new faceapi.TinyFaceDetectorOptions({
    inputSize: options.inputSize ?? 224,
    scoreThreshold: options.scoreThreshold ?? 0.5,
  });
  return {
    backend,
    async count(input: HTMLVideoElement | HTMLCanvasElement): Promise<number> {
      const faces = await faceapi.detectAllFaces(input, detectorOptions);
      return faces.length;
    },
    dispose(): void {
      faceapi.nets.tinyFaceDetector.dispose();
    },
  };
}
