import type { Tensor3D } from '@tensorflow/tfjs';
import { CHIP_SIZE, chipTransform, extractChip, transformScale, type Point, type RgbImage } from './align.ts';
import { cropBox, detectFaces, detectFirstStagePass, type DetectorStrategy, type FoundFace, type PassFace } from './detect.ts';
import { decodeImage } from './image.ts';
import type { Models } from './models.ts';
import { CHIP_FACE_SPAN, chipSharpness } from './quality.ts';
import type { DetectedFace, ImageAnalysis } from './types.ts';
import { clipBox, primaryFace, round, scaleBox } from './pick.ts';

type Box = DetectedFace['box'];

/** Everything a worker computes for one image: decode, detect, pick the main face, align, describe. */
export async function analyzeImage(models: Models, bytes: Uint8Array, strategy: DetectorStrategy = 'fast', fromStage = 0): Promise<ImageAnalysis> {
  const t0 = performance.now();
  const decoded = await decodeImage(bytes);
  if (!decoded.ok) return { ok: false, reason: 'invalid_image', message: decoded.message };
  const { image, scale } = decoded;
  const t1 = performance.now();
  const { tf } = models;
  const tensor = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
  try {
    const found = await detectFaces(models, tensor, strategy, fromStage);
    const t2 = performance.now();
    const faces = found.map((f) => ({ score: round(f.score, 3), box: scaleBox(clipBox(f.box, image), scale) }));
    const base = { ok: true as const, width: decoded.width, height: decoded.height, faces };
    if (found.length === 0) return { ...base, timings: { decodeMs: t1 - t0, detectMs: t2 - t1, embedMs: 0 } };
    const index = primaryFace(found, image);
    const described = await describeFace(models, image, tensor, found[index]!.box, scale);
    const t3 = performance.now();
    return { ...base, primary: { index, ...described }, timings: { decodeMs: t1 - t0, detectMs: t2 - t1, embedMs: t3 - t2 } };
  } finally {
    tf.dispose(tensor);
  }
}

/** The recognition part of a face: landmarks, aligned chip, descriptor, size and sharpness. */
export type DescribedFace = Omit<NonNullable<Extract<ImageAnalysis, { ok: true }>['primary']>, 'index'>;

async function describeFace(models: Models, image: RgbImage, tensor: Tensor3D, box: Box, scale: number): Promise<DescribedFace> {
  const landmarks = await locateLandmarks(models, tensor, box);
  const transform = chipTransform(landmarks);
  const chip = extractChip(image, transform);
  const descriptor = await describe(models, chip);
  return {
    descriptor,
    faceSize: round((CHIP_FACE_SPAN / transformScale(transform)) * scale, 1),
    sharpness: round(chipSharpness(chip), 1),
  };
}

/**
 * A piece of `analyzeImage` for two workers sharing one image (engine.ts, `analyzeSplit`): 'main' runs
 * the first stage's 224 pass and describes the face it would pick, 'small' runs the 416 pass, 'rest'
 * is analyzeImage from the second stage on (when the first found nothing), 'describe' describes a given
 * box. Decoding is deterministic, so both workers see the same working image.
 */
export type AnalysisPart = { kind: 'main' } | { kind: 'small' } | { kind: 'rest' } | { kind: 'describe'; box: Box };

export type PartResult =
  | { ok: false; reason: 'invalid_image'; message: string }
  | {
      ok: true;
      kind: 'main' | 'small';
      /** Uploaded size, working size and uploaded pixels per working pixel. */
      width: number;
      height: number;
      work: { width: number; height: number };
      scale: number;
      faces: PassFace[];
      /** 'main': the face among its own confirmed faces that analyzeImage would describe, described. */
      described?: { origin: number; face: DescribedFace };
      timings: { decodeMs: number; detectMs: number; embedMs: number };
    }
  | { ok: true; kind: 'rest'; analysis: ImageAnalysis }
  | { ok: true; kind: 'describe'; face: DescribedFace };

export async function analyzePart(models: Models, bytes: Uint8Array, part: AnalysisPart): Promise<PartResult> {
  if (part.kind === 'rest') return { ok: true, kind: 'rest', analysis: await analyzeImage(models, bytes, 'fast', 1) };
  const t0 = performance.now();
  const decoded = await decodeImage(bytes);
  if (!decoded.ok) return { ok: false, reason: 'invalid_image', message: decoded.message };
  const { image, scale } = decoded;
  const t1 = performance.now();
  const tensor = models.tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
  try {
    if (part.kind === 'describe') return { ok: true, kind: 'describe', face: await describeFace(models, image, tensor, part.box, scale) };
    const faces = await detectFirstStagePass(models, tensor, part.kind);
    const t2 = performance.now();
    let described: { origin: number; face: DescribedFace } | undefined;
    if (part.kind === 'main') {
      const own = faces.map((f, origin) => ({ ...f, origin })).filter((f) => f.seen);
      if (own.length > 0) {
        const chosen = own[primaryFace(own, image)]!;
        described = { origin: chosen.origin, face: await describeFace(models, image, tensor, chosen.box, scale) };
      }
    }
    const t3 = performance.now();
    return {
      ok: true,
      kind: part.kind,
      width: decoded.width,
      height: decoded.height,
      work: { width: image.width, height: image.height },
      scale,
      faces,
      ...(described ? { described } : {}),
      timings: { decodeMs: t1 - t0, detectMs: t2 - t1, embedMs: t3 - t2 },
    };
  } finally {
    models.tf.dispose(tensor);
  }
}

/**
 * The 68 landmarks inside the detector box. A box overhanging the photo is filled with black beyond the
 * edge rather than cut, so that the landmark net sees the face at the shape it expects.
 */
async function locateLandmarks(models: Models, tensor: Tensor3D, box: Box): Promise<Point[]> {
  const crop = cropBox(models, tensor, box);
  try {
    const landmarks = await models.faceapi.nets.faceLandmark68Net.detectLandmarks(crop as never);
    const single = Array.isArray(landmarks) ? landmarks[0]! : landmarks;
    return single.positions.map((p) => [p.x + Math.round(box.x), p.y + Math.round(box.y)] as const);
  } finally {
    models.tf.dispose(crop);
  }
}

async function describe(models: Models, chip: Float32Array): Promise<Float32Array> {
  const { tf, faceapi } = models;
  const input = tf.tensor3d(chip, [CHIP_SIZE, CHIP_SIZE, 3]);
  try {
    const out = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(input as never);
    return Float32Array.from(Array.isArray(out) ? out[0]! : out);
  } finally {
    tf.dispose(input);
  }
}

