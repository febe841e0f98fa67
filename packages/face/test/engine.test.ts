import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFaceEngine, FaceEngineError, MIN_FACE_SIZE, type FaceEngineHandle } from '../src/index.ts';
import { photo, pngHeader } from './faces.ts';

describe('face engine', () => {
  let engine: FaceEngineHandle;
  let template: Uint8Array;

  beforeAll(async () => {
    engine = await createFaceEngine({ workers: 2 });
    const enrolled = await engine.enroll(photo('images/barack_obama/1.jpg'));
    if (!enrolled.ok) throw new Error(`enrolment of the reference photo failed: ${enrolled.code}`);
    template = enrolled.template;
  }, 60_000);
  afterAll(async () => engine?.close());

  it('is ready once created, and enrols a portrait with its quality figures', async () => {
    expect(engine.ready()).toBe(true);
    const enrolled = await engine.enroll(photo('images/barack_obama/1.jpg'));
    expect(enrolled.ok).toBe(true);
    if (!enrolled.ok) return;
    expect(enrolled.template[0]).toBe(1);
    expect(enrolled.template.length).toBe(1 + 128 * 4);
    expect(enrolled.quality.faceSize).toBeGreaterThan(MIN_FACE_SIZE);
    expect(enrolled.quality).toMatchObject({ imageWidth: 910, imageHeight: 1137 });
  });

  it('matches another photo of the same person', async () => {
    const verdict = await engine.verify(photo('images/barack_obama/2.jpg'), template);
    expect(verdict).toMatchObject({ facesDetected: 1, match: true });
    expect(verdict.identityScore).toBeGreaterThan(90);
  });

  it('does not match a different person and scores them low', async () => {
    const verdict = await engine.verify(photo('images/alex_lacamoire/1.jpg'), template);
    expect(verdict).toMatchObject({ facesDetected: 1, match: false });
    expect(verdict.identityScore).toBeLessThan(10);
    expect(verdict.similarity).toBeLessThan(0.3);
  });

  it('reports the number of faces, without a verdict, when several people are in the frame', async () => {
    const verdict = await engine.verify(photo('multi/deepface_couple.jpg'), template);
    expect(verdict).toEqual({ facesDetected: 2 });
  });

  it('gives no verdict against a template made by another model version', async () => {
    const foreign = template.slice();
    foreign[0] = 99;
    expect(await engine.verify(photo('images/barack_obama/2.jpg'), foreign)).toEqual({ facesDetected: 1 });
  });

  it('refuses a photo with two faces at enrolment', async () => {
    expect(await engine.enroll(photo('multi/deepface_couple.jpg'))).toMatchObject({ ok: false, code: 'multiple_faces' });
  });

  it('refuses photos without a human face, including a cat and dogs', async () => {
    for (const file of ['noface/skimage_coffee.png', 'noface/skimage_chelsea_cat.png', 'noface/dlib_dogs.jpg']) {
      expect(await engine.enroll(photo(file)), file).toMatchObject({ ok: false, code: 'no_face' });
    }
    expect(await engine.verify(photo('noface/skimage_chelsea_cat.png'), template)).toEqual({ facesDetected: 0 });
  });

  it('refuses bytes that are not an image, at enrolment and at verification', async () => {
    const garbage = new TextEncoder().encode('this is not an image, just text pretending to be one');
    expect(await engine.enroll(garbage)).toMatchObject({ ok: false, code: 'invalid_image' });
    const err = await engine.verify(garbage, template).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaceEngineError);
    expect((err as FaceEngineError).code).toBe('invalid_image');
  });

  it('refuses a truncated JPEG', async () => {
    const jpeg = photo('images/barack_obama/1.jpg');
    expect(await engine.enroll(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)))).toMatchObject({ ok: false, code: 'invalid_image' });
  });

  it('refuses a PNG whose header announces 20000×20000 pixels, quickly', async () => {
    const started = performance.now();
    const result = await engine.enroll(pngHeader(20_000, 20_000));
    expect(result).toMatchObject({ ok: false, code: 'invalid_image' });
    if (!result.ok) expect(result.message).toMatch(/megapixels/);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('refuses a face too small to recognise', async () => {
    const small = await sharp(photo('images/barack_obama/1.jpg')).resize({ width: 100 }).toBuffer();
    const canvas = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#ffffff' } })
      .composite([{ input: small, left: 8, top: 8 }])
      .jpeg()
      .toBuffer();
    expect(await engine.enroll(canvas)).toMatchObject({ ok: false, code: 'face_too_small' });
  });

  it('refuses a heavily blurred photo', async () => {
    const blurred = await sharp(photo('images/barack_obama/1.jpg')).blur(12).jpeg().toBuffer();
    expect(await engine.enroll(blurred)).toMatchObject({ ok: false, code: 'image_too_blurry' });
  });

  it('leaves the caller its bytes', async () => {
    const bytes = photo('images/barack_obama/2.jpg');
    const before = bytes.length;
    await engine.verify(bytes, template);
    expect(bytes.length).toBe(before);
    expect(bytes[0]).toBe(0xff);
  });
});

describe('face engine worker pool', () => {
  it('refuses work beyond its queue, abandons a hung analysis and replaces the worker', async () => {
    // One worker, one queue place, and a time limit no analysis can meet: the first job "hangs".
    const engine = await createFaceEngine({ workers: 1, maxQueue: 1, jobTimeoutMs: 5 });
    try {
      const image = photo('images/barack_obama/5.jpg');
      const first = engine.verify(image, new Uint8Array());
      const second = engine.verify(image, new Uint8Array());
      const third = engine.verify(image, new Uint8Array());
      await expect(third).rejects.toMatchObject({ code: 'busy' });
      await expect(first).rejects.toMatchObject({ code: 'unavailable' });
      await expect(second).rejects.toMatchObject({ code: 'unavailable' });
      // The timed-out worker was terminated; a fresh one loads and the engine is ready again.
      const deadline = Date.now() + 30_000;
      while (!engine.ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(engine.ready()).toBe(true);
    } finally {
      await engine.close();
    }
    expect(engine.ready()).toBe(false);
  }, 60_000);
});
