import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeSplit } from '../src/engine.ts';
import { WorkerPool } from '../src/pool.ts';
import type { ImageAnalysis } from '../src/types.ts';
import { FACES_DIR, photo } from './faces.ts';

/**
 * An image analysed by two idle workers at once (`analyzeSplit`) must give exactly what one worker
 * gives (`analyzeImage`): the same faces in the same order, the same candidate face and the same
 * descriptor, bit for bit — on group photos, photos without a face (the later stages), portraits, and
 * webcam-like frames where a small second person is found by the 416 pass only.
 */

let pool: WorkerPool;

beforeAll(async () => {
  pool = new WorkerPool({ workers: 2, maxQueue: 64, jobTimeoutMs: 60_000, detector: 'fast' });
  await pool.whenReady();
}, 120_000);

afterAll(async () => {
  await pool?.close();
});

const folder = (name: string) => fs.readdirSync(path.join(FACES_DIR, name)).sort().map((f) => `${name}/${f}`);

/** The dev identities' first photos, every 12th identity: portraits of many sizes and crops. */
function portraits(): string[] {
  const people = fs.readdirSync(path.join(FACES_DIR, 'images')).sort();
  return people.filter((_, i) => i % 12 === 0).map((p) => `images/${p}/${fs.readdirSync(path.join(FACES_DIR, 'images', p)).sort()[0]}`);
}

/** A 640×480 frame: one portrait large in the middle, another small at the side (found by the 416 pass). */
async function twoPersonFrame(big: string, small: string): Promise<Buffer> {
  const a = await sharp(photo(big)).rotate().resize({ height: 420 }).toBuffer();
  const b = await sharp(photo(small)).rotate().resize({ height: 110 }).toBuffer();
  const aMeta = await sharp(a).metadata();
  return sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 120, g: 120, b: 120 } } })
    .composite([
      { input: a, left: Math.max(0, Math.round(320 - (aMeta.width ?? 300) / 2)), top: 30 },
      { input: b, left: 20, top: 40 },
    ])
    .jpeg({ quality: 88 })
    .toBuffer();
}

function comparable(analysis: ImageAnalysis) {
  if (!analysis.ok) return analysis;
  return {
    faces: analysis.faces,
    primary: analysis.primary && { index: analysis.primary.index, faceSize: analysis.primary.faceSize, sharpness: analysis.primary.sharpness, descriptor: Array.from(analysis.primary.descriptor) },
    size: [analysis.width, analysis.height],
  };
}

describe('analysis split over two workers', () => {
  it('gives exactly the single-worker answer on group photos, no-face photos, portraits and two-person frames', async () => {
    const images: [string, Uint8Array][] = [...folder('multi'), ...folder('noface'), ...portraits()].map((f) => [f, photo(f)]);
    const people = portraits();
    for (let i = 0; i + 1 < people.length && i < 8; i += 2) images.push([`frame ${people[i]} + ${people[i + 1]}`, await twoPersonFrame(people[i]!, people[i + 1]!)]);
    let splitFaces = 0;
    let secondFromSmall = 0;
    for (const [name, bytes] of images) {
      const single = await pool.run(bytes);
      expect(pool.idle()).toBe(2);
      const split = await analyzeSplit(pool, bytes);
      expect(comparable(split), name).toEqual(comparable(single));
      if (split.ok) splitFaces += split.faces.length;
      if (name.startsWith('frame') && split.ok && split.faces.length >= 2) secondFromSmall++;
    }
    expect(splitFaces).toBeGreaterThan(60);
    expect(secondFromSmall).toBeGreaterThan(0);
  }, 240_000);

  it('answers a corrupt image as one worker does', async () => {
    const split = await analyzeSplit(pool, new Uint8Array([0xff, 0xd8, 0xff, 0x00, 1, 2, 3]));
    expect(split.ok).toBe(false);
  });
});
