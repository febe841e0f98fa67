import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * TensorFlow.js on its WebAssembly backend, and the face-api networks, loaded from the files that the
 * npm packages ship: the .wasm binaries from @tensorflow/tfjs-backend-wasm/dist and the weights from
 * @vladmandic/face-api/model. Nothing is fetched over the network.
 */

// face-api's Node/WASM build is CommonJS and expects @tensorflow/tfjs and the wasm backend beside it.
const require = createRequire(import.meta.url);

export type FaceApi = typeof import('@vladmandic/face-api/dist/face-api.node-wasm.js');
// The full TensorFlow.js API; face-api's bundled typings expose only a subset of the same instance.
export type Tf = typeof import('@tensorflow/tfjs');

export interface Models {
  faceapi: FaceApi;
  tf: Tf;
}

/** The folder holding face-api's weights, unless the caller points elsewhere. */
export function defaultModelsDir(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

function wasmDir(): string {
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
}

/** Initialises the WASM backend and loads the detectors, landmark and recognition networks (once per thread). */
export async function loadModels(modelsDir = defaultModelsDir()): Promise<Models> {
  const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(prefix: string, usePlatformFetch?: boolean): void };
  const tf = require('@tensorflow/tfjs') as Tf;
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  wasm.setWasmPaths(wasmDir(), false);
  if (!(await tf.setBackend('wasm'))) throw new Error('the TensorFlow.js WASM backend could not start');
  await tf.ready();
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelsDir);
  await faceapi.nets.tinyFaceDetector.loadFromDisk(modelsDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelsDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelsDir);
  return { faceapi, tf };
}
