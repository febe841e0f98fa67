/**
 * The pure parts of an analysis, shared by the workers (analyze.ts) and the engine's main thread (which
 * assembles split analyses and must not load the image decoder).
 */
import type { DescribedFace, PartResult } from './analyze.ts';
import type { FoundFace } from './detect.ts';
import type { DetectedFace, ImageAnalysis } from './types.ts';

type Box = DetectedFace['box'];

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

/** The analysis of an image whose first stage ran split (see analyzePart), as analyzeImage returns it. */
export function assembleSplit(main: Extract<PartResult, { kind: 'main' | 'small' }>, found: readonly FoundFace[], primary: { index: number; face: DescribedFace }, embedMs: number, detectMs: number): ImageAnalysis {
  return {
    ok: true,
    width: main.width,
    height: main.height,
    faces: found.map((f) => ({ score: round(f.score, 3), box: scaleBox(clipBox(f.box, main.work), main.scale) })),
    primary: { index: primary.index, ...primary.face },
    timings: { decodeMs: main.timings.decodeMs, detectMs, embedMs },
  };
}

export function clipBox(box: Box, image: { width: number; height: number }): Box {
  const x0 = clamp(box.x, 0, image.width), y0 = clamp(box.y, 0, image.height);
  const x1 = clamp(box.x + box.width, 0, image.width), y1 = clamp(box.y + box.height, 0, image.height);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

export function scaleBox(box: Box, scale: number): Box {
  return { x: round(box.x * scale, 1), y: round(box.y * scale, 1), width: round(box.width * scale, 1), height: round(box.height * scale, 1) };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
