import type { Tensor3D } from '@tensorflow/tfjs';
import { CHIP_SIZE, chipTransform, extractChip, transformScale, type Point } from './align.ts';
import { cropBox, detectFaces, type DetectorStrategy } from './detect.ts';
import { decodeImage } from './image.ts';
import type { Models } from './models.ts';
import { CHIP_FACE_SPAN, chipSharpness } from './quality.ts';
import type { DetectedFace, ImageAnalysis } from './types.ts';

type Box = DetectedFace['box'];

/** Everything a worker computes for one image: decode, detect, pick the main face, align, describe. */
export async function analyzeImage(models: Models, bytes: Uint8Array, strategy: DetectorStrategy = 'fast'): Promise<ImageAnalysis> {
  const t0 = performance.now();
  const decoded = await decodeImage(bytes);
  if (!decoded.ok) return { ok: false, reason: 'invalid_image', message: decoded.message };
  const { image, scale } = decoded;
  const t1 = performance.now();
  const { tf } = models;
  const tensor = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
  try {
    const found = await detectFaces(models, tensor, strategy);
    const t2 = performance.now();
    const faces = found.map((f) => ({ score: round(f.score, 3), box: scaleBox(clipBox(f.box, image), scale) }));
    const base = { ok: true as const, width: decoded.width, height: decoded.height, faces };
    if (found.length === 0) return { ...base, timings: { decodeMs: t1 - t0, detectMs: t2 - t1, embedMs: 0 } };
    const index = primaryFace(found, image);
    const landmarks = await locateLandmarks(models, tensor, found[index]!.box);
    const transform = chipTransform(landmarks);
    const chip = extractChip(image, transform);
    const descriptor = await describe(models, chip);
    const t3 = performance.now();
    return {
      ...base,
      primary: {
        index,
        descriptor,
        faceSize: round((CHIP_FACE_SPAN / transformScale(transform)) * scale, 1),
        sharpness: round(chipSharpness(chip), 1),
      },
      timings: { decodeMs: t1 - t0, detectMs: t2 - t1, embedMs: t3 - t2 },
    };
  } finally {
    tf.dispose(tensor);
  }
}

/** The largest face, favouring the centre: a news photo often has another face at its edge. */
export function primaryFace(faces: readonly { box: Box }[], image: { width: number; height: number }): number {
  const cx = image.width / 2, cy = image.height / 2, halfDiagonal = Math.hypot(image.width, image.height) / 2;
  let best = 0, bestWeight = -1;
  faces.forEach(({ box }, i) => {
    const off = Math.hypot(box.x + box.width / 2 - cx, box.y + box.height / 2 - cy) / halfDiagonal;
    const weight = box.width * box.height * (1 - 0.5 * Math.min(1, off));
    if (weight > bestWeight) {
      bestWeight = weight;
      best = i;
    }
  });
  return best;
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

function clipBox(box: Box, image: { width: number; height: number }): Box {
  const x0 = clamp(box.x, 0, image.width), y0 = clamp(box.y, 0, image.height);
  const x1 = clamp(box.x + box.width, 0, image.width), y1 = clamp(box.y + box.height, 0, image.height);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

function scaleBox(box: Box, scale: number): Box {
  return { x: round(box.x * scale, 1), y: round(box.y * scale, 1), width: round(box.width * scale, 1), height: round(box.height * scale, 1) };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
