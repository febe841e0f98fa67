/**
 * Face templates and the calibrated decision on them.
 *
 * A template is one version byte followed by the 128 float32 (little-endian) values of the descriptor.
 * The version names the whole recipe — recognition network, alignment, chip size — so a template made
 * by another model is recognised and never compared with descriptors it cannot be compared with.
 */

/** 1 = dlib ResNet (face-api `face_recognition_model`), dlib 68-landmark chip 150 px, padding 0.25. */
export const TEMPLATE_VERSION = 1;
export const DESCRIPTOR_LENGTH = 128;
const TEMPLATE_BYTES = 1 + DESCRIPTOR_LENGTH * 4;

/**
 * Calibration on ../shared/faces/pairs_dev.tsv (918 same-person + 918 different-person pairs), from
 * `npm run face:eval -- --pairs ../shared/faces/pairs_dev.tsv --root ../shared/faces --calibrate
 * [--detector accurate]` (the fit itself is src/calibrate.ts). Both detectors give the same constants:
 * - MATCH_DISTANCE: Euclidean distance at or below which two faces are the same person. The dev distance
 *   at which FAR reaches 1 % is 0.629 with the fast detector (all 1 836 pairs) and 0.628 with the
 *   accurate one (1 831 pairs); rounded down to 0.62, the EER point of both: FAR 0.87 %, FRR 0.87 %. A
 *   mismatch stops the session, so the threshold sits at the lenient end of the range we would accept
 *   (FAR ≤ 1 %), not at FAR 0.1 % (TAR 97.7 %, i.e. one honest frame in 44 refused).
 * - SCORE_SLOPE: identityScore = 100 / (1 + e^(SCORE_SLOPE · (d − MATCH_DISTANCE))), the logistic
 *   p(same | d) fitted by maximum likelihood on the dev pairs (equal priors) with its centre fixed at
 *   MATCH_DISTANCE: 57.0 (accurate), 61.6 (fast); 57 is kept, the two curves differ by under 2 points.
 *   So the score is 50 at the threshold, 90 at d = 0.58, 10 at d = 0.66; the median genuine pair
 *   (d = 0.417) scores 100 and the median impostor (d = 0.825) 0.
 * The detector only changes the box the landmarks start from, not the descriptor: a template enrolled
 * with one detector and a probe from the other give FAR 0.87 %, FRR 1.04 % at 0.62 on the dev pairs, so
 * TEMPLATE_VERSION does not record it.
 */
export const MATCH_DISTANCE = 0.62;
export const SCORE_SLOPE = 57;

export function encodeTemplate(descriptor: Float32Array): Uint8Array {
  if (descriptor.length !== DESCRIPTOR_LENGTH) throw new Error(`expected a ${DESCRIPTOR_LENGTH}-value descriptor`);
  const bytes = new Uint8Array(TEMPLATE_BYTES);
  const view = new DataView(bytes.buffer);
  bytes[0] = TEMPLATE_VERSION;
  descriptor.forEach((v, i) => view.setFloat32(1 + i * 4, v, true));
  return bytes;
}

/** The descriptor in a template of the current version, or null for any other bytes. */
export function decodeTemplate(bytes: Uint8Array): Float32Array | null {
  if (bytes.length !== TEMPLATE_BYTES || bytes[0] !== TEMPLATE_VERSION) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(DESCRIPTOR_LENGTH);
  for (let i = 0; i < DESCRIPTOR_LENGTH; i++) {
    const v = view.getFloat32(1 + i * 4, true);
    if (!Number.isFinite(v)) return null;
    out[i] = v;
  }
  return out;
}

/** Whether a stored template can be compared by this engine (false: re-enrol after a model change). */
export function isCurrentTemplate(bytes: Uint8Array): boolean {
  return decodeTemplate(bytes) !== null;
}

export function descriptorDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sum);
}

export interface IdentityVerdict {
  match: boolean;
  /** 1 − distance, clamped to [0, 1]; identical faces give 1. */
  similarity: number;
  /** Calibrated 0-100: 50 at the threshold, ≥ 90 for a typical same-person pair, ≤ 10 for a typical impostor. */
  identityScore: number;
}

export function judgeDistance(distance: number): IdentityVerdict {
  const identityScore = 100 / (1 + Math.exp(SCORE_SLOPE * (distance - MATCH_DISTANCE)));
  return {
    match: distance <= MATCH_DISTANCE,
    similarity: Math.round(Math.min(1, Math.max(0, 1 - distance)) * 1000) / 1000,
    identityScore: Math.round(identityScore * 10) / 10,
  };
}
