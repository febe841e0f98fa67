import type { Tensor3D } from '@tensorflow/tfjs';
import type { Models } from './models.ts';
import type { DetectedFace } from './types.ts';

/**
 * Face detection, in two strategies measured on the dev pairs, the multi/ and noface/ photos and
 * webcam-like frames made from them (README, "Face counting" and "Detection candidates"):
 * - `fast` (default): face-api's tiny face detector at two scales, ~60 ms on a 640×480 frame; a
 *   third scale and then the first SSD pass only when it finds nothing.
 * - `accurate`: the SSD MobileNet v1 passes alone, ~200 ms per pass.
 * Both count every face they find: the API refuses enrolment and raises `multiple_faces` on a count ≥ 2.
 */
export type DetectorStrategy = 'fast' | 'accurate';
export const DETECTOR_STRATEGIES: readonly DetectorStrategy[] = ['fast', 'accurate'];

type Box = DetectedFace['box'];
export interface FoundFace {
  score: number;
  /** In the pixels of the working image; may overhang it (a face cut by the frame edge). */
  box: Box;
}

/** Detections below this SSD confidence are ignored: at 0.5 no face is reported on the noface/ set. */
export const MIN_DETECTION_SCORE = 0.5;
/**
 * SSD passes, run in order until one finds a face. The SSD detector (fixed 512×512 input) misses
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

export interface TinyPass {
  /** The detector's square input (multiple of 32); the bordered image is scaled into it. */
  inputSize: number;
  /** Border added on every side, as a fraction of the longer side. */
  border: number;
  minScore: number;
}

/**
 * The tiny detector finds faces in a band of sizes set by its input: at 224 faces from ~20 % of the
 * longer side up (webcam faces, LFW portraits), at 416 faces down to ~7 % (a second person further
 * back, group photos) but it misses large faces. `fast` therefore runs both and merges them; a face
 * seen by both is counted once. Only when neither finds a face does it try `full` (faces filling the
 * frame, e.g. 150-px crops), then the first SSD pass. Thresholds from the measurements in the README:
 * the 416 pass at 0.4 is what finds a second face in every multi/ photo and in every two-person frame.
 */
export const FAST_PASSES: { readonly main: TinyPass; readonly small: TinyPass; readonly full: TinyPass } = {
  main: { inputSize: 224, border: 0.1, minScore: 0.5 },
  small: { inputSize: 416, border: 0, minScore: 0.4 },
  full: { inputSize: 160, border: 0.25, minScore: 0.5 },
};

/**
 * A face the tiny detector scores under CONFIRM_BELOW, and any face from the SSD fallback, is counted
 * only if it is confirmed: the 416 pass also found a face of the 224 pass at AGREE_SCORE or more (two
 * scales agree), or else the tiny detector finds it again in a crop of CONFIRM.crop × its box, i.e. at
 * the scale where it detects best (~15 ms, for ~5 % of one-person webcam frames). Dogs are the
 * detectors' weak point: in 180 640×480 frames made from the noface/ dogs and cat, the tiny passes alone
 * report a face in 77, the SSD passes in 50, with this check 40. Stricter settings (re-detection score
 * 0.4) cut that to 26 but start to miss a second person (3 of 80 two-person frames); these do not.
 */
export const CONFIRM_BELOW = 0.7;
export const CONFIRM = { crop: 1.6, inputSize: 224, minScore: 0.3 };
export const AGREE_SCORE = 0.5;

/** A face found by the tiny passes, `confirmed` when both passes saw it. */
type Candidate = FoundFace & { confirmed?: boolean };

/**
 * All faces in the image, by the chosen strategy; [] when there is none. `fromStage: 1` skips the first
 * `fast` stage (the two merged tiny passes), for an engine that ran it split over two workers
 * (`mergeFirstStage`) and found nothing.
 */
export async function detectFaces(models: Models, tensor: Tensor3D, strategy: DetectorStrategy, fromStage = 0): Promise<FoundFace[]> {
  if (strategy === 'accurate') return detectSsd(models, tensor, DETECTION_PASSES);
  const stages: { run: () => Promise<Candidate[]>; trust: number }[] = [
    { run: () => detectTinyMerged(models, tensor, [FAST_PASSES.main, FAST_PASSES.small]), trust: CONFIRM_BELOW },
    { run: () => detectTiny(models, tensor, FAST_PASSES.full), trust: CONFIRM_BELOW },
    // The other SSD passes are for small faces and faces filling the frame, which the tiny passes cover.
    { run: () => detectSsd(models, tensor, DETECTION_PASSES.slice(0, 1)), trust: Infinity },
  ];
  for (const stage of stages.slice(fromStage)) {
    const faces: FoundFace[] = [];
    for (const { score, box, confirmed } of await stage.run()) {
      if (score >= stage.trust || confirmed || (await seenAgain(models, tensor, box))) faces.push({ score, box });
    }
    if (faces.length > 0) return faces;
  }
  return [];
}

async function detectTinyMerged(models: Models, tensor: Tensor3D, [first, second]: readonly [TinyPass, TinyPass]): Promise<Candidate[]> {
  const faces: Candidate[] = [];
  for (const face of await detectTiny(models, tensor, first)) {
    if (!faces.some((f) => sameFace(f.box, face.box))) faces.push(face);
  }
  const fromFirst = faces.length;
  for (const face of await detectTiny(models, tensor, second)) {
    const seen = faces.findIndex((f) => sameFace(f.box, face.box));
    if (seen < 0) faces.push(face);
    else if (seen < fromFirst && face.score >= AGREE_SCORE) faces[seen]!.confirmed = true;
  }
  return faces;
}

/** A face of one of the first stage's passes, run alone, with its own confirmation (re-detection) done. */
export interface PassFace extends FoundFace {
  /** Scored CONFIRM_BELOW or more, or found again by `seenAgain`. */
  seen: boolean;
}

/**
 * One pass of the first `fast` stage on its own ('main' = 224, 'small' = 416), for running the two
 * passes in two workers at once. Faces the pass reports twice are kept once, as detectTinyMerged does;
 * every face scored under CONFIRM_BELOW is re-detected here (the merge may not need it: two scales that
 * agree also confirm a face).
 */
export async function detectFirstStagePass(models: Models, tensor: Tensor3D, which: 'main' | 'small'): Promise<PassFace[]> {
  const faces: FoundFace[] = [];
  for (const face of await detectTiny(models, tensor, FAST_PASSES[which])) {
    if (which === 'small' || !faces.some((f) => sameFace(f.box, face.box))) faces.push(face);
  }
  const out: PassFace[] = [];
  for (const face of faces) out.push({ ...face, seen: face.score >= CONFIRM_BELOW || (await seenAgain(models, tensor, face.box)) });
  return out;
}

/**
 * The first `fast` stage from its two passes run apart: exactly the faces `detectFaces` accepts at that
 * stage, in the same order. `origin` is the face's index among `main`'s faces, or -1 for a face only
 * the 416 pass found.
 */
export function mergeFirstStage(main: readonly PassFace[], small: readonly PassFace[]): (FoundFace & { origin: number })[] {
  const faces: (PassFace & { origin: number; confirmed?: boolean })[] = main.map((f, origin) => ({ ...f, origin }));
  const fromFirst = faces.length;
  for (const face of small) {
    const seen = faces.findIndex((f) => sameFace(f.box, face.box));
    if (seen < 0) faces.push({ ...face, origin: -1 });
    else if (seen < fromFirst && face.score >= AGREE_SCORE) faces[seen]!.confirmed = true;
  }
  return faces.filter((f) => f.score >= CONFIRM_BELOW || f.confirmed || f.seen).map(({ score, box, origin }) => ({ score, box, origin }));
}

/** Whether the tiny detector finds a face at the centre of a crop CONFIRM.crop times the box. */
async function seenAgain(models: Models, tensor: Tensor3D, box: Box): Promise<boolean> {
  const { tf, faceapi } = models;
  const side = Math.max(8, Math.round(CONFIRM.crop * Math.max(box.width, box.height)));
  const square = { x: box.x + box.width / 2 - side / 2, y: box.y + box.height / 2 - side / 2, width: side, height: side };
  const crop = cropBox(models, tensor, square);
  try {
    const options = new faceapi.TinyFaceDetectorOptions({ inputSize: CONFIRM.inputSize, scoreThreshold: CONFIRM.minScore });
    const found = await faceapi.detectAllFaces(crop as never, options);
    const centre = { x: side / 4, y: side / 4, width: side / 2, height: side / 2 };
    return found.some((d) => sameFace(d.box, centre));
  } finally {
    tf.dispose(crop);
  }
}

/**
 * The pixels of `box` (rounded to whole pixels), black where it overhangs the image, so that a face cut
 * by the frame edge keeps its shape and position in the crop.
 */
export function cropBox({ tf }: Models, tensor: Tensor3D, box: Box): Tensor3D {
  const [h, w] = tensor.shape;
  const x = Math.round(box.x), y = Math.round(box.y);
  const cw = Math.max(2, Math.round(box.width)), ch = Math.max(2, Math.round(box.height));
  const x0 = clamp(x, 0, w), y0 = clamp(y, 0, h), x1 = clamp(x + cw, 0, w), y1 = clamp(y + ch, 0, h);
  if (x1 - x0 < 1 || y1 - y0 < 1) return tf.zeros([ch, cw, 3], 'int32');
  return tf.tidy(() => tf.pad(tf.slice(tensor, [y0, x0, 0], [y1 - y0, x1 - x0, 3]), [[y0 - y, y + ch - y1], [x0 - x, x + cw - x1], [0, 0]]));
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/**
 * Two boxes from different passes are one face when they overlap well or when the centre of one lies
 * inside the other: the passes frame a face differently (the 416 pass sometimes boxes only part of a
 * large face, or a face plus its surroundings), and two real faces never have a centre inside each other.
 */
export function sameFace(a: Box, b: Box): boolean {
  const x0 = Math.max(a.x, b.x), y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width), y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const iou = inter / (a.width * a.height + b.width * b.height - inter);
  return iou > 0.3 || centreInside(a, b) || centreInside(b, a);
}

function centreInside(a: Box, b: Box): boolean {
  const cx = a.x + a.width / 2, cy = a.y + a.height / 2;
  return cx > b.x && cx < b.x + b.width && cy > b.y && cy < b.y + b.height;
}

async function detectTiny(models: Models, tensor: Tensor3D, pass: TinyPass): Promise<FoundFace[]> {
  const { tf, faceapi } = models;
  const pad = Math.round(Math.max(tensor.shape[0], tensor.shape[1]) * pass.border);
  const input = pad > 0 ? (tf.pad(tensor, [[pad, pad], [pad, pad], [0, 0]]) as Tensor3D) : tensor;
  try {
    const options = new faceapi.TinyFaceDetectorOptions({ inputSize: pass.inputSize, scoreThreshold: pass.minScore });
    // face-api declares its own copy of the tfjs tensor types; the runtime instance is the same.
    const found = await faceapi.detectAllFaces(input as never, options);
    return found.map((d) => ({ score: d.score, box: { x: d.box.x - pad, y: d.box.y - pad, width: d.box.width, height: d.box.height } }));
  } finally {
    if (input !== tensor) tf.dispose(input);
  }
}

async function detectSsd(models: Models, tensor: Tensor3D, passes: typeof DETECTION_PASSES): Promise<FoundFace[]> {
  const { tf, faceapi } = models;
  const options = new faceapi.SsdMobilenetv1Options({ minConfidence: MIN_DETECTION_SCORE, maxResults: 50 });
  const longSide = Math.max(tensor.shape[0], tensor.shape[1]);
  for (const pass of passes) {
    const pad = Math.round(longSide * pass.border);
    const input = pad > 0 ? (tf.pad(tensor, [[pad, pad], [pad, pad], [0, 0]]) as Tensor3D) : tensor;
    try {
      const found = (await faceapi.detectAllFaces(input as never, options)).filter((d) => {
        const share = Math.max(d.box.width, d.box.height) / longSide;
        return share >= (pass.minShare ?? 0) && share <= (pass.maxShare ?? Infinity);
      });
      if (found.length > 0) {
        return found.map((d) => ({ score: d.score, box: { x: d.box.x - pad, y: d.box.y - pad, width: d.box.width, height: d.box.height } }));
      }
    } finally {
      if (input !== tensor) tf.dispose(input);
    }
  }
  return [];
}
