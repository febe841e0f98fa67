/**
 * Verification accuracy from scores where higher means "more likely the same person" (here: the
 * similarity 1 − distance). Genuine = same-person pairs, impostor = different-person pairs.
 */

export interface RatesAt {
  threshold: number;
  /** Impostor pairs accepted (score ≥ threshold), as a fraction. */
  far: number;
  /** Genuine pairs rejected (score < threshold), as a fraction. */
  frr: number;
}

export interface VerificationStats {
  genuine: number;
  impostor: number;
  /** Equal error rate, and the threshold where FAR and FRR are closest. */
  eer: number;
  eerThreshold: number;
  /** Genuine acceptance at the lowest threshold whose FAR does not exceed 1 % / 0.1 %. */
  tarAtFar1: number;
  tarAtFar01: number;
}

function countBelow(sorted: readonly number[], t: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** FAR and FRR when pairs scoring at least `threshold` are accepted. */
export function ratesAt(genuine: readonly number[], impostor: readonly number[], threshold: number): RatesAt {
  const g = [...genuine].sort((a, b) => a - b), i = [...impostor].sort((a, b) => a - b);
  return { threshold, far: (i.length - countBelow(i, threshold)) / i.length, frr: countBelow(g, threshold) / g.length };
}

export function verificationStats(genuine: readonly number[], impostor: readonly number[]): VerificationStats {
  if (genuine.length === 0 || impostor.length === 0) throw new Error('need genuine and impostor scores');
  const g = [...genuine].sort((a, b) => a - b), i = [...impostor].sort((a, b) => a - b);
  const thresholds = [...new Set([...g, ...i])].sort((a, b) => a - b);
  let eer = 1, eerThreshold = thresholds[0]!, gap = Infinity;
  let tarAtFar1 = 0, tarAtFar01 = 0;
  for (const t of thresholds) {
    const frr = countBelow(g, t) / g.length;
    const far = (i.length - countBelow(i, t)) / i.length;
    if (Math.abs(far - frr) < gap) {
      gap = Math.abs(far - frr);
      eer = (far + frr) / 2;
      eerThreshold = t;
    }
    if (far <= 0.01) tarAtFar1 = Math.max(tarAtFar1, 1 - frr);
    if (far <= 0.001) tarAtFar01 = Math.max(tarAtFar01, 1 - frr);
  }
  return { genuine: g.length, impostor: i.length, eer, eerThreshold, tarAtFar1, tarAtFar01 };
}

/** The lowest threshold at which FAR ≤ `far` on these impostor scores. */
export function thresholdAtFar(impostor: readonly number[], far: number): number {
  const i = [...impostor].sort((a, b) => b - a);
  const allowed = Math.floor(far * i.length);
  // Accepting scores strictly above the (allowed+1)-th highest impostor keeps at most `allowed` impostors.
  const boundary = i[allowed] ?? -Infinity;
  return boundary + 1e-9;
}

/**
 * Slope k of p(same) = 1 / (1 + e^(−k (s − center))) fitted by maximum likelihood on the pairs, the
 * centre being fixed at the operating threshold (so that identityScore is 50 exactly there).
 */
export function fitLogisticSlope(genuine: readonly number[], impostor: readonly number[], center: number): number {
  const nll = (k: number) => {
    let sum = 0;
    for (const s of genuine) sum += Math.log1p(Math.exp(-k * (s - center)));
    for (const s of impostor) sum += Math.log1p(Math.exp(k * (s - center)));
    return sum;
  };
  // The likelihood is convex in k: golden-section search over a wide bracket.
  let lo = 0.1, hi = 200;
  const phi = (Math.sqrt(5) - 1) / 2;
  let a = hi - phi * (hi - lo), b = lo + phi * (hi - lo);
  let fa = nll(a), fb = nll(b);
  for (let n = 0; n < 100; n++) {
    if (fa < fb) {
      hi = b; b = a; fb = fa; a = hi - phi * (hi - lo); fa = nll(a);
    } else {
      lo = a; a = b; fa = fb; b = lo + phi * (hi - lo); fb = nll(b);
    }
  }
  return (lo + hi) / 2;
}
