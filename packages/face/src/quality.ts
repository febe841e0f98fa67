import { CHIP_PADDING, CHIP_SIZE } from './align.ts';

/** The inner face (landmark region without padding) spans this many pixels in the chip. */
export const CHIP_FACE_SPAN = CHIP_SIZE / (1 + 2 * CHIP_PADDING);

/**
 * Sharpness of an aligned chip: variance of the 4-neighbour Laplacian of its grey levels over the inner
 * face. Because the chip is already normalised in scale, the figure compares across photo sizes; a face
 * upscaled from few pixels is as blurred as a face out of focus, and is scored as such.
 */
export function chipSharpness(chip: Float32Array, size = CHIP_SIZE): number {
  const grey = new Float32Array(size * size);
  for (let i = 0; i < size * size; i++) grey[i] = 0.299 * chip[i * 3]! + 0.587 * chip[i * 3 + 1]! + 0.114 * chip[i * 3 + 2]!;
  const lo = Math.round((size - CHIP_FACE_SPAN) / 2), hi = size - lo;
  let sum = 0, sum2 = 0, n = 0;
  for (let y = Math.max(1, lo); y < Math.min(size - 1, hi); y++) {
    for (let x = Math.max(1, lo); x < Math.min(size - 1, hi); x++) {
      const i = y * size + x;
      const lap = grey[i - 1]! + grey[i + 1]! + grey[i - size]! + grey[i + size]! - 4 * grey[i]!;
      sum += lap;
      sum2 += lap * lap;
      n++;
    }
  }
  const mean = sum / n;
  return sum2 / n - mean * mean;
}
