import { describe, expect, it } from 'vitest';
import { fitLogisticSlope, ratesAt, thresholdAtFar, verificationStats } from '../src/metrics.ts';
import { MATCH_DISTANCE, decodeTemplate, encodeTemplate, isCurrentTemplate, judgeDistance } from '../src/template.ts';

describe('verification metrics', () => {
  it('finds no error when same and different pairs are separated', () => {
    const s = verificationStats([0.9, 0.8, 0.7], [0.1, 0.2, 0.3]);
    expect(s.eer).toBe(0);
    expect(s.tarAtFar1).toBe(1);
    expect(s.tarAtFar01).toBe(1);
  });

  it('computes EER, TAR at a FAR and the rates at a threshold on overlapping scores', () => {
    const genuine = [0.5, 0.6, 0.7, 0.8, 0.9];
    const impostor = [0.1, 0.2, 0.3, 0.4, 0.6];
    const s = verificationStats(genuine, impostor);
    // At 0.6 one genuine pair (0.5) is rejected and one impostor (0.6) accepted: 20 % each.
    expect(s.eer).toBeCloseTo(0.2, 10);
    expect(s.eerThreshold).toBe(0.6);
    // FAR ≤ 1 % needs a threshold above 0.6, which keeps 0.7, 0.8 and 0.9.
    expect(s.tarAtFar1).toBeCloseTo(0.6, 10);
    expect(ratesAt(genuine, impostor, 0.55)).toEqual({ threshold: 0.55, far: 0.2, frr: 0.2 });
    const t = thresholdAtFar(impostor, 0.2);
    expect(ratesAt(genuine, impostor, t).far).toBe(0.2);
    expect(ratesAt(genuine, impostor, t - 0.01).far).toBe(0.4);
  });

  it('fits a steeper identity curve when the classes are further apart', () => {
    const near = fitLogisticSlope([0.6, 0.7, 0.45], [0.4, 0.3, 0.55], 0.5);
    const far = fitLogisticSlope([0.6, 0.7, 0.8], [0.4, 0.3, 0.2], 0.5);
    expect(far).toBeGreaterThan(near);
  });
});

describe('templates', () => {
  it('round-trip the descriptor and refuse other versions or sizes', () => {
    const descriptor = Float32Array.from({ length: 128 }, (_, i) => Math.sin(i));
    const bytes = encodeTemplate(descriptor);
    expect(decodeTemplate(bytes)).toEqual(descriptor);
    const other = bytes.slice();
    other[0] = 2;
    expect(isCurrentTemplate(other)).toBe(false);
    expect(isCurrentTemplate(bytes.subarray(0, 100))).toBe(false);
  });

  it('scores 50 at the threshold, high for close faces and low for distant ones', () => {
    expect(judgeDistance(MATCH_DISTANCE)).toMatchObject({ match: true, identityScore: 50 });
    expect(judgeDistance(MATCH_DISTANCE + 0.001).match).toBe(false);
    expect(judgeDistance(0.4).identityScore).toBeGreaterThan(90);
    expect(judgeDistance(0.85).identityScore).toBeLessThan(10);
    expect(judgeDistance(1.4).similarity).toBe(0);
  });
});
