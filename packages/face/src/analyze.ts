import type { Tensor3D } from '@tensorflow/tfjs';
import { CHIP_SIZE, chipTransform, extractChip, transformScale, type Point, type RgbImage } from './align.ts';
import { decodeImage } from './image.ts';
import type { Models } from './models.ts';
import { CHIP_FACE_SPAN, chipSharpness } from './quality.ts';
import type { DetectedFace, ImageAnalysis } from './types.ts';

/** Detections below this SSD confidence are ignored: at 0.5 no face is reported on the noface/ set. */
export const MIN_DETECTION_SCORE = 0.5;
/**
 * Detector passes, run in order until one finds a face. The SSD detector (fixed 512×512 input) misses
 * faces that fill the frame, so the first pass adds a border of 25 % of the longer side on every side.
 * A face that is small in a large frame shrinks further with a border: the second pass has none, but
 * accepts only faces under a quarter of the longer side (without a border the detector mistakes a cat
 * filling the frame for a face). The third, with a 75 % border, is for the tightest crops and accepts
 * only faces over 30 % of the longer side (smaller ones would have been found before; there it takes
 * dogs for faces). Most photos need only the first pass, i.e. one detector run.
 */
export const DETECTION_PASSES: readonly { border: number; minShare?: number; maxShare?: number }[] = [
  { border: 0.25 },
  { border: 0, maxShare: 0.25 },
  { border: 0.75, minShare: 0.3 },
];

type Box = DetectedFace['box'];

/** Everything a worker computes for one image: decode, detect, pick the main face, align, describe. */
export async function analyzeImage(models: Models, bytes: Uint8Array): Promise<ImageAnalysis> {
  const t0 = performance.now();
  const decoded = await decodeImage(bytes);
  if (!decoded.ok) return { ok: false, reason: 'invalid_image', message: decoded.message };
  const { image, scale } = decoded;
  const t1 = performance.now();
  const { tf } = models;
  const tensor = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
  try {
    const found = await detect(models, tensor, image);
    const t2 = performance.now();
    const faces = found.faces.map((f) => ({ score: round(f.score, 3), box: scaleBox(clipBox(f.box, image), scale) }));
    const base = { ok: true as const, width: decoded.width, height: decoded.height, faces };
    if (faces.length === 0 || !found.padded) {
      return { ...base, timings: { decodeMs: t1 - t0, detectMs: t2 - t1, embedMs: 0 } };
    }
    const index = primaryFace(found.faces, image);
    const landmarks = await locateLandmarks(models, found.padded, found.pad, found.faces[index]!.box);
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

interface Detection {
  faces: { score: number; box: Box }[];
  /** The bordered image the faces were found in (kept for the landmark crop), and its border. */
  padded?: Tensor3D;
  pad: number;
}

async function detect(models: Models, tensor: Tensor3D, image: RgbImage): Promise<Detection> {
  const { tf, faceapi } = models;
  const options = new faceapi.SsdMobilenetv1Options({ minConfidence: MIN_DETECTION_SCORE, maxResults: 50 });
  const longSide = Math.max(image.width, image.height);
  for (const pass of DETECTION_PASSES) {
    const pad = Math.round(longSide * pass.border);
    const padded = tf.pad(tensor, [[pad, pad], [pad, pad], [0, 0]]) as Tensor3D;
    // face-api declares its own copy of the tfjs tensor types; the runtime instance is the same.
    const found = (await faceapi.detectAllFaces(padded as never, options)).filter((d) => {
      const share = Math.max(d.box.width, d.box.height) / longSide;
      return share >= (pass.minShare ?? 0) && share <= (pass.maxShare ?? Infinity);
    });
    if (found.length > 0) {
      const faces = found.map((d) => ({ score: d.score, box: { x: d.box.x - pad, y: d.box.y - pad, width: d.box.width, height: d.box.height } }));
      // The landmark crop is taken from the bordered image so that a box overhanging the photo keeps its shape.
      return { faces, padded, pad };
    }
    tf.dispose(padded);
  }
  return { faces: [], pad: 0 };
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

async function locateLandmarks(models: Models, padded: Tensor3D, pad: number, box: Box): Promise<Point[]> {
  const { tf, faceapi } = models;
  const [h, w] = padded.shape;
  const x = clamp(Math.round(box.x + pad), 0, w - 2), y = clamp(Math.round(box.y + pad), 0, h - 2);
  const cw = clamp(Math.round(box.width), 2, w - x), ch = clamp(Math.round(box.height), 2, h - y);
  const crop = tf.slice(padded, [y, x, 0], [ch, cw, 3]);
  try {
    const landmarks = await faceapi.nets.faceLandmark68Net.detectLandmarks(crop as never);
    const single = Array.isArray(landmarks) ? landmarks[0]! : landmarks;
    return single.positions.map((p) => [p.x + x - pad, p.y + y - pad] as const);
  } finally {
    tf.dispose([crop, padded]);
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
