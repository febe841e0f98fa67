import os from 'node:os';
import { assembleSplit, primaryFace } from './pick.ts';
import { DETECTOR_STRATEGIES, mergeFirstStage, type DetectorStrategy } from './detect.ts';
import { FaceEngineError, WorkerPool } from './pool.ts';
import { decodeTemplate, descriptorDistance, encodeTemplate, judgeDistance } from './template.ts';
import type { FaceEngine, FaceEnrollResult, FaceVerifyResult, ImageAnalysis } from './types.ts';

/**
 * Quality gate. MIN_FACE_SIZE is the width in pixels of the inner face (the landmark region from eye
 * corner to eye corner and brow to mouth, about 45 % of a detector box): every dev photo passes (smallest
 * 36 px, LFW faces ~48 px), a face under 32 px is refused. MIN_SHARPNESS is the Laplacian variance on the
 * aligned face: dev photos range from 2.9 (one visibly blurred) to >1 000, a Gaussian blur of σ = 12 px
 * on a 900 px portrait gives ~2.
 */
export const MIN_FACE_SIZE = 32;
export const MIN_SHARPNESS = 3;

export interface FaceEngineOptions {
  /** Worker threads, each with its own models (~150 MB). Default: os.availableParallelism(). */
  workers?: number;
  /** Folder with face-api's weight files. Default: the one shipped in @vladmandic/face-api. */
  modelsDir?: string;
  /**
   * Face detector: 'fast' (default; tiny face detector at two scales, SSD only when it finds nothing;
   * ~90 ms per verification of a 640×480 frame) or 'accurate' (SSD passes; ~235 ms). Same recogniser,
   * threshold and templates either way; see the README for both strategies' accuracy and face counts.
   */
  detector?: DetectorStrategy;
  /**
   * With the `fast` detector, an image arriving while two workers are idle is analysed by both at once
   * (`analyzeSplit`: same result, ~40 % sooner). Default true; under load every image takes one worker.
   */
  splitWhenIdle?: boolean;
  /** Requests allowed to wait for a worker; beyond, calls fail at once with FaceEngineError 'busy'. Default 16 per worker. */
  maxQueue?: number;
  /** A single analysis running longer is treated as a hung worker, which is replaced. Default 30 s. */
  jobTimeoutMs?: number;
  /** Resolve only once all workers have loaded their models (default). With false, `ready()` turns true later. */
  waitUntilReady?: boolean;
}

export interface FaceEngineHandle extends FaceEngine {
  /** Everything the worker found in one image (faces, main face descriptor, quality); used by face:eval. */
  analyze(image: Uint8Array): Promise<ImageAnalysis>;
  /** Resolves when all workers are loaded; rejects if the models could not be loaded. */
  whenReady(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the worker pool and returns the engine. `enroll` and `verify` never run inference on the calling
 * thread. They throw FaceEngineError: 'busy' when the queue is full, 'unavailable' when a worker died on
 * the request or the engine is closed, and (verify only) 'invalid_image' for bytes that are not an image.
 *
 * @example
 * const engine = await createFaceEngine({ workers: 2 });
 * const enrolled = await engine.enroll(jpegBytes);
 * if (enrolled.ok) console.log(await engine.verify(frameBytes, enrolled.template));
 * await engine.close();
 */
export async function createFaceEngine(options: FaceEngineOptions = {}): Promise<FaceEngineHandle> {
  const workers = Math.max(1, Math.floor(options.workers ?? os.availableParallelism()));
  const detector = options.detector ?? 'fast';
  if (!DETECTOR_STRATEGIES.includes(detector)) {
    throw new Error(`unknown face detector "${String(detector)}"; expected ${DETECTOR_STRATEGIES.join(' or ')}`);
  }
  const pool = new WorkerPool({
    workers,
    modelsDir: options.modelsDir,
    detector,
    maxQueue: options.maxQueue ?? workers * 16,
    jobTimeoutMs: options.jobTimeoutMs ?? 30_000,
  });
  if (options.waitUntilReady !== false) {
    try {
      await pool.whenReady();
    } catch (err) {
      await pool.close();
      throw err;
    }
  }
  const split = detector === 'fast' && options.splitWhenIdle !== false;
  const analyze = (image: Uint8Array): Promise<ImageAnalysis> => (split && pool.idle() >= 2 ? analyzeSplit(pool, image) : pool.run(image));
  return {
    ready: () => pool.ready(),
    whenReady: () => pool.whenReady(),
    analyze,
    close: () => pool.close(),
    enroll: async (image) => enrollFrom(await analyze(image)),
    verify: async (image, template) => verifyFrom(await analyze(image), template),
  };
}

/**
 * One image over two idle workers: the first stage's 224 pass (and the description of the face it
 * would pick) in one, its 416 pass in the other, merged exactly as one worker merges them
 * (`mergeFirstStage`). The answer is the same as `analyzeImage`'s; it comes in about the time of the
 * longer half instead of the sum. When the 416 pass changes which face is the candidate's, that face is
 * described afterwards; when the first stage finds nothing, the later stages run in one worker.
 */
export async function analyzeSplit(pool: WorkerPool, image: Uint8Array): Promise<ImageAnalysis> {
  const [main, small] = await Promise.all([pool.runPart(image, { kind: 'main' }), pool.runPart(image, { kind: 'small' })]);
  if (!main.ok) return main;
  if (main.kind !== 'main' || !small.ok || small.kind !== 'small') throw new Error('face worker answered the wrong part');
  const found = mergeFirstStage(main.faces, small.faces);
  const detectMs = Math.max(main.timings.detectMs, small.timings.detectMs);
  if (found.length === 0) {
    const rest = await pool.runPart(image, { kind: 'rest' });
    if (!rest.ok || rest.kind !== 'rest') throw new Error('face worker answered the wrong part');
    return rest.analysis;
  }
  const index = primaryFace(found, main.work);
  const chosen = found[index]!;
  if (main.described && chosen.origin === main.described.origin) {
    return assembleSplit(main, found, { index, face: main.described.face }, main.timings.embedMs, detectMs);
  }
  const t0 = performance.now();
  const described = await pool.runPart(image, { kind: 'describe', box: chosen.box });
  if (!described.ok || described.kind !== 'describe') throw new Error('face worker answered the wrong part');
  return assembleSplit(main, found, { index, face: described.face }, performance.now() - t0, detectMs);
}

export function enrollFrom(analysis: ImageAnalysis): FaceEnrollResult {
  if (!analysis.ok) return { ok: false, code: 'invalid_image', message: analysis.message };
  const { faces, primary } = analysis;
  if (faces.length === 0 || !primary) return { ok: false, code: 'no_face', message: 'No face was found in the photo.' };
  if (faces.length > 1) {
    return { ok: false, code: 'multiple_faces', message: `${faces.length} faces were found; the photo must show only the candidate.` };
  }
  if (primary.faceSize < MIN_FACE_SIZE) {
    return { ok: false, code: 'face_too_small', message: 'The face is too small; come closer to the camera or use a larger photo.' };
  }
  if (primary.sharpness < MIN_SHARPNESS) {
    return { ok: false, code: 'image_too_blurry', message: 'The face is too blurred; hold still, focus and retake the photo.' };
  }
  return {
    ok: true,
    template: encodeTemplate(primary.descriptor),
    quality: {
      detectionScore: faces[0]!.score,
      faceSize: primary.faceSize,
      sharpness: primary.sharpness,
      imageWidth: analysis.width,
      imageHeight: analysis.height,
    },
  };
}

/**
 * One face: compared with the template. Several: only the count (the API raises multiple_faces). A face
 * too small or blurred to judge, or a template from another model version, yields no identity verdict
 * rather than a false mismatch that would stop an honest candidate's session.
 */
export function verifyFrom(analysis: ImageAnalysis, template: Uint8Array): FaceVerifyResult {
  if (!analysis.ok) throw new FaceEngineError('invalid_image', analysis.message);
  const facesDetected = analysis.faces.length;
  const primary = analysis.primary;
  if (facesDetected !== 1 || !primary) return { facesDetected };
  const enrolled = decodeTemplate(template);
  if (!enrolled) return { facesDetected };
  if (primary.faceSize < MIN_FACE_SIZE || primary.sharpness < MIN_SHARPNESS) return { facesDetected };
  return { facesDetected, ...judgeDistance(descriptorDistance(enrolled, primary.descriptor)) };
}
