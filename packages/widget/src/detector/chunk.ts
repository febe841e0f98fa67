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
  // The frame is scaled down to the detector's input width before it reaches tfjs: reading a 640×480
  // frame's pixels and resizing them as a tensor cost more than the detection itself, and the detector
  // sees the same 224 px either way.
  const inputSize = options.inputSize ?? 224;
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true, alpha: false });
  if (!context) throw new Error('no 2D canvas');
  return {
    backend,
    async count(input: HTMLVideoElement | HTMLCanvasElement): Promise<number> {
      const width = input instanceof HTMLVideoElement ? input.videoWidth : input.width;
      const height = input instanceof HTMLVideoElement ? input.videoHeight : input.height;
      if (!width || !height) return 0;
      const scale = Math.min(1, inputSize / Math.max(width, height));
      const w = Math.round(width * scale), h = Math.round(height * scale);
      // Resizing a canvas reallocates it: only when the camera's size changes.
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
      context.drawImage(input, 0, 0, w, h);
      const faces = await faceapi.detectAllFaces(canvas, detectorOptions);
      return faces.length;
    },
    dispose(): void {
      faceapi.nets.tinyFaceDetector.dispose();
    },
  };
}
