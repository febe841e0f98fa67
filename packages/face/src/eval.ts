/**
 * face:eval — verification accuracy of the engine on a list of pairs.
 *
 *   npm run face:eval -- --pairs ../shared/faces/pairs_dev.tsv --root ../shared/faces [--json] [--workers N] [--calibrate]
 *     [--detector fast|accurate]
 *
 * The TSV has columns path_a, path_b, same (1 = same person, 0 = different), paths relative to --root.
 * Each distinct image is analysed once; a photo with several faces is represented by its main face
 * (largest, most central). Pairs with an image where no face was found are skipped and listed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { calibrate } from './calibrate.ts';
import { DETECTOR_STRATEGIES, type DetectorStrategy } from './detect.ts';
import { createFaceEngine } from './engine.ts';
import { ratesAt, verificationStats } from './metrics.ts';
import { MATCH_DISTANCE, SCORE_SLOPE, descriptorDistance } from './template.ts';

interface Pair {
  a: string;
  b: string;
  same: boolean;
}

export function parsePairs(text: string): Pair[] {
  const pairs: Pair[] = [];
  for (const [n, line] of text.split(/\r?\n/).entries()) {
    if (!line.trim()) continue;
    const [a, b, same] = line.split('\t');
    if (n === 0 && same === 'same') continue;
    if (!a || !b || (same !== '0' && same !== '1')) throw new Error(`line ${n + 1}: expected "path_a<TAB>path_b<TAB>0|1"`);
    pairs.push({ a, b, same: same === '1' });
  }
  return pairs;
}

const pct = (v: number) => `${(100 * v).toFixed(2)} %`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pairs: { type: 'string' },
      root: { type: 'string' },
      json: { type: 'boolean', default: false },
      workers: { type: 'string' },
      calibrate: { type: 'boolean', default: false },
      detector: { type: 'string', default: 'fast' },
    },
  });
  const detector = values.detector as DetectorStrategy;
  if (!values.pairs || !values.root || !DETECTOR_STRATEGIES.includes(detector)) {
    console.error('usage: face:eval --pairs <tsv> --root <dir> [--json] [--workers N] [--calibrate] [--detector fast|accurate]');
    process.exit(2);
  }
  const pairs = parsePairs(fs.readFileSync(values.pairs, 'utf8'));
  const images = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const workers = values.workers ? Number(values.workers) : undefined;

  const tStart = performance.now();
  const engine = await createFaceEngine({ workers, detector });
  const loadMs = performance.now() - tStart;
  const descriptors = new Map<string, Float32Array>();
  const failures = new Map<string, string>();
  const severalFaces: string[] = [];
  let workMs = 0, done = 0;
  const t0 = performance.now();
  const inFlight = new Set<Promise<void>>();
  const analyse = async (rel: string) => {
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(path.join(values.root!, rel));
    } catch {
      failures.set(rel, 'file not readable');
      return;
    }
    const r = await engine.analyze(bytes);
    if (!r.ok) failures.set(rel, `invalid image: ${r.message}`);
    else {
      workMs += r.timings.decodeMs + r.timings.detectMs + r.timings.embedMs;
      if (!r.primary) failures.set(rel, 'no face found');
      else descriptors.set(rel, r.primary.descriptor);
      if (r.faces.length > 1) severalFaces.push(rel);
    }
  };
  for (const rel of images) {
    const job = analyse(rel).finally(() => {
      inFlight.delete(job);
      if (++done % 20 === 0 || done === images.length) {
        const rate = done / ((performance.now() - t0) / 1000);
        process.stderr.write(`\rface:eval ${done}/${images.length} images, ${rate.toFixed(1)}/s   `);
      }
    });
    inFlight.add(job);
    if (inFlight.size >= 4 * (workers ?? 2)) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  process.stderr.write('\n');
  const wallMs = performance.now() - t0;
  await engine.close();

  const genuine: number[] = [], impostor: number[] = [];
  const skipped: { pair: Pair; reason: string }[] = [];
  for (const pair of pairs) {
    const da = descriptors.get(pair.a), db = descriptors.get(pair.b);
    if (!da || !db) {
      const reason = [pair.a, pair.b].filter((p) => failures.has(p)).map((p) => `${p}: ${failures.get(p)}`).join('; ');
      skipped.push({ pair, reason });
      continue;
    }
    (pair.same ? genuine : impostor).push(descriptorDistance(da, db));
  }
  if (genuine.length === 0 || impostor.length === 0) throw new Error('no same-person or no different-person pair could be evaluated');
  // Statistics on similarity = −distance, so that a higher score means "same person".
  const neg = (d: number[]) => d.map((v) => -v);
  const stats = verificationStats(neg(genuine), neg(impostor));
  const op = ratesAt(neg(genuine), neg(impostor), -MATCH_DISTANCE);
  const measured = images.length - [...failures.values()].filter((r) => r !== 'no face found').length;
  const msPerImage = workMs / Math.max(1, measured);

  const lines = [
    `pairs: ${pairs.length} in ${values.pairs} (${images.length} distinct images), detector: ${detector}`,
    `evaluated: ${genuine.length + impostor.length} (${genuine.length} same, ${impostor.length} different)`,
    `skipped (no face / unreadable): ${skipped.length} pairs = ${pct(skipped.length / pairs.length)}`,
    ...[...failures].map(([img, why]) => `  ${img}: ${why}`),
    `images with several faces (main face used): ${severalFaces.length}`,
    `EER: ${pct(stats.eer)} (at distance ${(-stats.eerThreshold).toFixed(3)})`,
    `TAR at FAR 1 %: ${pct(stats.tarAtFar1)}`,
    `TAR at FAR 0.1 %: ${pct(stats.tarAtFar01)}`,
    `operating threshold (distance ≤ ${MATCH_DISTANCE}): FAR ${pct(op.far)}, FRR ${pct(op.frr)}`,
    `ms per image: ${msPerImage.toFixed(1)} (decode + detect + embed in a worker; ${engineWorkers(workers)} workers)`,
    `wall clock: ${(wallMs / 1000).toFixed(1)} s for ${images.length} images (${((images.length * 1000) / wallMs).toFixed(1)} images/s), models loaded in ${loadMs.toFixed(0)} ms`,
  ];
  if (values.calibrate) {
    const c = calibrate(genuine, impostor, MATCH_DISTANCE);
    const score = (d: number) => 100 / (1 + Math.exp(c.slope * (d - MATCH_DISTANCE)));
    lines.push(
      `calibration: distance at FAR 1 % = ${c.distanceAtFar1.toFixed(4)}; logistic slope around ${MATCH_DISTANCE} = ${c.slope.toFixed(2)} (in use: ${SCORE_SLOPE})`,
      `  median distance same ${c.medianGenuine.toFixed(3)} → score ${score(c.medianGenuine).toFixed(1)}, different ${c.medianImpostor.toFixed(3)} → score ${score(c.medianImpostor).toFixed(1)}`,
    );
  }
  console.log(lines.join('\n'));
  if (values.json) {
    const round = (v: number) => Math.round(v * 1e5) / 1e5;
    console.log(
      JSON.stringify({
        pairs: genuine.length + impostor.length,
        skipped: skipped.length,
        eer: round(stats.eer),
        tarAtFar1: round(stats.tarAtFar1),
        tarAtFar01: round(stats.tarAtFar01),
        far: round(op.far),
        frr: round(op.frr),
        msPerImage: Math.round(msPerImage * 10) / 10,
      }),
    );
  }
}

function engineWorkers(requested: number | undefined): number {
  return requested ?? os.availableParallelism();
}

await main();
