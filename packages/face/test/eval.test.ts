import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FACES_DIR } from './faces.ts';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));

describe('face:eval', () => {
  it('evaluates a pairs file, lists what it skipped and ends with one JSON line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'face-eval-'));
    const tsv = path.join(dir, 'pairs.tsv');
    fs.writeFileSync(
      tsv,
      [
        'path_a\tpath_b\tsame',
        'images/barack_obama/1.jpg\timages/barack_obama/2.jpg\t1',
        'images/alex_lacamoire/1.jpg\timages/alex_lacamoire/2.jpg\t1',
        'images/barack_obama/1.jpg\timages/alex_lacamoire/1.jpg\t0',
        'images/barack_obama/2.jpg\timages/alex_lacamoire/2.jpg\t0',
        'noface/skimage_coffee.png\timages/barack_obama/1.jpg\t0',
        '',
      ].join('\n'),
    );
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'packages/face/src/eval.ts', '--pairs', tsv, '--root', FACES_DIR, '--json', '--workers', '1'], { cwd: repo });
      const lines = stdout.trim().split('\n');
      const summary = JSON.parse(lines.at(-1)!);
      expect(Object.keys(summary).sort()).toEqual(['eer', 'far', 'frr', 'msPerImage', 'pairs', 'skipped', 'tarAtFar01', 'tarAtFar1']);
      expect(summary).toMatchObject({ pairs: 4, skipped: 1, eer: 0, tarAtFar1: 1, far: 0, frr: 0 });
      expect(summary.msPerImage).toBeGreaterThan(0);
      expect(stdout).toContain('noface/skimage_coffee.png: no face found');
      expect(stderr).toContain('5/5 images');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
