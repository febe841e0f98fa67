/**
 * Latency of one verification in the engine, without HTTP: a 640×480 JPEG with one face (a dev photo
 * scaled so that the face box spans --face-share of the frame width, centred on grey, as a webcam gives), decode → detect → embed → match in one
 * worker, one request at a time.
 *
 *   node --import tsx packages/face/src/bench-frame.ts [--runs 50] [--detector fast|accurate|both]
 *     [--photo images/…] [--reference images/…] [--face-share 0.3]
 *
 * Prints, per strategy, the median and p95 of the round trip seen by the caller and of the worker's own
 * decode / detect / embed times. Photos come from $SECUREACCESS_FACES_DIR or <repo>/../shared/faces.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { DETECTOR_STRATEGIES, type DetectorStrategy } from './detect.ts';
import { createFaceEngine } from './engine.ts';

const FACES = process.env.SECUREACCESS_FACES_DIR ?? path.resolve(fileURLToPath(new URL('../../../', import.meta.url)), '../shared/faces');

/** The photo scaled so that its face is `faceShare` of the frame width, the face centred in a grey 640×480 frame. */
async function webcamFrame(photo: Uint8Array, face: { x: number; y: number; width: number; height: number }, faceShare: number): Promise<Buffer> {
  const upright = await sharp(photo).rotate().toBuffer(); // the engine's boxes are in EXIF-upright pixels
  const { width = 0, height = 0 } = await sharp(upright).metadata();
  const k = (faceShare * 640) / face.width;
  const sw = Math.round(width * k), sh = Math.round(height * k);
  const left = Math.round(320 - (face.x + face.width / 2) * k), top = Math.round(240 - (face.y + face.height / 2) * k);
  // Only the part of the scaled photo that falls inside the frame is pasted.
  const x0 = Math.max(0, -left), y0 = Math.max(0, -top);
  const visible = await sharp(upright)
    .resize({ width: sw, height: sh, fit: 'fill' })
    .extract({ left: x0, top: y0, width: Math.min(sw - x0, 640 - Math.max(0, left)), height: Math.min(sh - y0, 480 - Math.max(0, top)) })
    .toBuffer();
  return sharp({ create: { width: 640, height: 480, channels: 3, background: '#6b6b6b' } })
    .composite([{ input: visible, left: Math.max(0, left), top: Math.max(0, top) }])
    .jpeg({ quality: 85 })
    .toBuffer();
}

function stats(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `median ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms`;
}

async function bench(detector: DetectorStrategy, photo: Uint8Array, reference: Uint8Array, faceShare: number, runs: number): Promise<void> {
  const engine = await createFaceEngine({ workers: 1, detector });
  try {
    const found = await engine.analyze(photo);
    if (!found.ok || !found.primary) throw new Error('no face in the photo');
    const frame = await webcamFrame(photo, found.faces[found.primary.index]!.box, faceShare);
    const enrolled = await engine.enroll(reference);
    if (!enrolled.ok) throw new Error(`enrolment failed: ${enrolled.code}`);
    const first = await engine.verify(frame, enrolled.template);
    if (first.facesDetected !== 1 || first.match !== true) throw new Error(`unexpected verdict on the frame: ${JSON.stringify(first)}`);
    for (let i = 0; i < 5; i++) await engine.analyze(frame); // warm-up: first inferences compile kernels
    const total: number[] = [], decode: number[] = [], detect: number[] = [], embed: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await engine.verify(frame, enrolled.template);
      total.push(performance.now() - t0);
      const r = await engine.analyze(frame);
      if (!r.ok) throw new Error('frame not decoded');
      decode.push(r.timings.decodeMs);
      detect.push(r.timings.detectMs);
      embed.push(r.timings.embedMs);
    }
    console.log(`${detector}: verify round trip ${stats(total)} (${runs} runs, 1 worker)`);
    console.log(`  in the worker: decode ${stats(decode)}; detect ${stats(detect)}; embed ${stats(embed)}`);
  } finally {
    await engine.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '50' },
      detector: { type: 'string', default: 'both' },
      photo: { type: 'string', default: 'images/barack_obama/2.jpg' },
      reference: { type: 'string', default: 'images/barack_obama/1.jpg' },
      'face-share': { type: 'string', default: '0.3' },
    },
  });
  const strategies = values.detector === 'both' ? DETECTOR_STRATEGIES : DETECTOR_STRATEGIES.filter((s) => s === values.detector);
  if (strategies.length === 0) throw new Error('--detector must be fast, accurate or both');
  const photo = fs.readFileSync(path.join(FACES, values.photo));
  const reference = fs.readFileSync(path.join(FACES, values.reference));
  const share = Number(values['face-share']);
  console.log(`frame: 640×480 JPEG from ${values.photo}, face box ${Math.round(share * 100)} % of the frame width`);
  for (const detector of strategies) await bench(detector, photo, reference, share, Number(values.runs));
}

await main();
