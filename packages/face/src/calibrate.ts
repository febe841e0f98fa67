import { fitLogisticSlope, thresholdAtFar } from './metrics.ts';

export interface Calibration {
  /** Distance threshold at which the impostor pairs' FAR is ≤ 1 %. */
  distanceAtFar1: number;
  /** Logistic slope (per unit of distance) fitted with its centre at `center`. */
  slope: number;
  center: number;
  medianGenuine: number;
  medianImpostor: number;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * How the constants in template.ts were chosen: the threshold where FAR reaches 1 % on the pairs, and
 * the identityScore slope fitted by maximum likelihood around a given centre (the threshold in use).
 */
export function calibrate(genuineDistances: readonly number[], impostorDistances: readonly number[], center: number): Calibration {
  const negate = (d: readonly number[]) => d.map((v) => -v);
  return {
    distanceAtFar1: -thresholdAtFar(negate(impostorDistances), 0.01),
    slope: fitLogisticSlope(negate(genuineDistances), negate(impostorDistances), -center),
    center,
    medianGenuine: median(genuineDistances),
    medianImpostor: median(impostorDistances),
  };
}
