import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameFace } from '../src/detect.ts';
import { createFaceEngine, type FaceEngineHandle } from '../src/index.ts';
import { FACES_DIR, photo } from './faces.ts';

const folder = (name: string) => fs.readdirSync(path.join(FACES_DIR, name)).sort().map((f) => `${name}/${f}`);

async function countFaces(engine: FaceEngineHandle, files: string[]): Promise<Record<string, number>> {
  const counts = await Promise.all(
    files.map(async (file) => {
      const analysis = await engine.analyze(photo(file));
      if (!analysis.ok) throw new Error(`${file}: ${analysis.message}`);
      return [file, analysis.faces.length] as const;
    }),
  );
  return Object.fromEntries(counts);
}

/** A 640×480 frame with people cut from two photos side by side, each scaled to a face width in pixels. */
async function twoPeopleFrame(people: { file: string; faceWidth: number; centreX: number }[], engine: FaceEngineHandle): Promise<Buffer> {
  const layers = [];
  for (const { file, faceWidth, centreX } of people) {
    const analysis = await engine.analyze(photo(file));
    if (!analysis.ok || !analysis.primary) throw new Error(`no face in ${file}`);
    const box = analysis.faces[analysis.primary.index]!.box;
    const k = faceWidth / box.width;
    const width = Math.round(analysis.width * k), height = Math.round(analysis.height * k);
    // A tile 1.5 face widths wide around the face, with the face centred at (centreX, 240) where the photo allows.
    const tileWidth = Math.round(1.5 * faceWidth);
    const left = Math.max(0, Math.round((box.x + box.width / 2) * k - tileWidth / 2));
    const top = Math.max(0, Math.round((box.y + box.height / 2) * k - 240));
    const input = await sharp(photo(file))
      .rotate()
      .resize({ width, height, fit: 'fill' })
      .extract({ left, top, width: Math.min(tileWidth, width - left), height: Math.min(480, height - top) })
      .toBuffer();
    layers.push({ input, left: Math.round(centreX - tileWidth / 2), top: 0 });
  }
  return sharp({ create: { width: 640, height: 480, channels: 3, background: '#6b6b6b' } }).composite(layers).jpeg({ quality: 85 }).toBuffer();
}

describe('fast face detector (the default)', () => {
  let engine: FaceEngineHandle;
  beforeAll(async () => {
    engine = await createFaceEngine({ workers: 2 });
  }, 60_000);
  afterAll(async () => engine?.close());

  it('counts at least two faces in every group photo of multi/', async () => {
    const counts = await countFaces(engine, folder('multi'));
    expect(Object.keys(counts).length).toBeGreaterThanOrEqual(20);
    expect(Object.entries(counts).filter(([, n]) => n < 2)).toEqual([]);
  }, 60_000);

  it('finds no face in any noface/ photo, the cat and the dogs included', async () => {
    const counts = await countFaces(engine, folder('noface'));
    expect(counts).toHaveProperty(['noface/dlib_dogs.jpg'], 0);
    expect(counts).toHaveProperty(['noface/skimage_chelsea_cat.png'], 0);
    expect(Object.entries(counts).filter(([, n]) => n > 0)).toEqual([]);
  }, 60_000);

  it('counts one face in a portrait, and also in a 150 px crop that the face fills', async () => {
    const counts = await countFaces(engine, ['images/barack_obama/1.jpg', 'images/alex_lacamoire/1.jpg', 'images/bbt_penny/3.png']);
    expect(counts).toEqual({ 'images/barack_obama/1.jpg': 1, 'images/alex_lacamoire/1.jpg': 1, 'images/bbt_penny/3.png': 1 });
  }, 60_000);

  it('reports a second, smaller person in a webcam frame as two faces, and the candidate alone as one', async () => {
    const enrolled = await engine.enroll(photo('images/barack_obama/1.jpg'));
    if (!enrolled.ok) throw new Error(enrolled.code);
    const candidate = { file: 'images/barack_obama/2.jpg', faceWidth: 190, centreX: 200 };
    const alone = await twoPeopleFrame([candidate], engine);
    expect(await engine.verify(alone, enrolled.template)).toMatchObject({ facesDetected: 1, match: true });
    // A second person further back: face 70 px wide (11 % of the frame width).
    const withHelper = await twoPeopleFrame([candidate, { file: 'images/alex_lacamoire/1.jpg', faceWidth: 70, centreX: 500 }], engine);
    expect(await engine.verify(withHelper, enrolled.template)).toEqual({ facesDetected: 2 });
  }, 60_000);
});

describe('accurate face detector (option)', () => {
  it('is selected with detector: "accurate" and counts the same faces on a couple and a cat', async () => {
    const engine = await createFaceEngine({ workers: 1, detector: 'accurate' });
    try {
      expect(await countFaces(engine, ['multi/deepface_couple.jpg', 'noface/skimage_chelsea_cat.png'])).toEqual({
        'multi/deepface_couple.jpg': 2,
        'noface/skimage_chelsea_cat.png': 0,
      });
    } finally {
      await engine.close();
    }
  }, 60_000);

  it('refuses an unknown detector name', async () => {
    await expect(createFaceEngine({ workers: 1, detector: 'fastest' as never })).rejects.toThrow(/unknown face detector/);
  });
});

describe('merging the passes of the fast detector', () => {
  it('counts boxes of one face from two passes once, and side-by-side faces twice', () => {
    const face = { x: 100, y: 100, width: 100, height: 100 };
    // The 416 pass framing only the upper part of a large face, or the face with its surroundings.
    expect(sameFace(face, { x: 110, y: 90, width: 60, height: 50 })).toBe(true);
    expect(sameFace(face, { x: 40, y: 20, width: 260, height: 230 })).toBe(true);
    // Cheek to cheek: the boxes touch but neither centre is inside the other.
    expect(sameFace(face, { x: 190, y: 110, width: 90, height: 90 })).toBe(false);
    expect(sameFace(face, { x: 400, y: 100, width: 100, height: 100 })).toBe(false);
  });
});
