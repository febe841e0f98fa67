import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const dist = path.resolve(import.meta.dirname, '../dist');
const require = createRequire(import.meta.url);

describe('the widget build (npm run build)', () => {
  it('has the script-tag bundle without ML code, the ESM build with declarations, and the lazy assets', () => {
    for (const file of [
      'secureaccess-widget.js',
      'esm/index.js',
      'esm/index.d.ts',
      'widget/detector.js',
      'widget/models/tiny_face_detector_model-weights_manifest.json',
      'widget/models/tiny_face_detector_model.bin',
      'widget/wasm/tfjs-backend-wasm-simd.wasm',
    ]) {
      expect(existsSync(path.join(dist, file)), `${file} (run npm run build)`).toBe(true);
    }
    const bundle = readFileSync(path.join(dist, 'secureaccess-widget.js'));
    expect(gzipSync(bundle).length).toBeLessThan(30 * 1024);
    // The tfjs kernels live in the lazy chunk only.
    expect(bundle.toString()).not.toContain('tinyFaceDetector');
    expect(readFileSync(path.join(dist, 'widget/detector.js'), 'utf8')).toContain('tinyFaceDetector');
  });

  it("declarations let a strict TypeScript consumer use the seed's API, and catch a misuse", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sa-widget-types-'));
    try {
      const entry = path.join(dist, 'esm/index.js').replace(/\\/g, '/');
      writeFileSync(
        path.join(dir, 'good.ts'),
        `import { SecureAccessWidget, type AssessmentResult, type CheatingEvent } from '${entry}';
const widget = new SecureAccessWidget({
  apiUrl: 'https://example.com', sessionToken: 'sa_sess_x', containerId: 'w',
  onAuthScoreUpdate: (s) => console.log(s.overall + s.identity + s.presence + s.behavioral),
  onCheatingDetected: (v: CheatingEvent) => console.log(v.type, v.severity),
  onAssessmentComplete: (r: AssessmentResult) => console.log(r.status === 'stopped' ? r.stopReason : r.authScore),
  onError: (e) => console.log(e.code, e.message),
});
async function run(): Promise<void> { await widget.init(); await widget.startAssessment(); const r = await widget.completeAssessment(); console.log(r.authScore); widget.destroy(); }
void run();
`,
      );
      writeFileSync(
        path.join(dir, 'bad.ts'),
        `import { SecureAccessWidget } from '${entry}';
new SecureAccessWidget({ apiUrl: 'x', sessionToken: 'y' });
`,
      );
      const tsc = require.resolve('typescript/bin/tsc');
      const args = (file: string) => [tsc, '--noEmit', '--strict', '--target', 'ES2022', '--module', 'ESNext', '--moduleResolution', 'Bundler', '--lib', 'ES2022,DOM', path.join(dir, file)];
      execFileSync(process.execPath, args('good.ts'), { stdio: 'pipe' });
      let failure = '';
      try {
        execFileSync(process.execPath, args('bad.ts'), { stdio: 'pipe' });
      } catch (error) {
        failure = String((error as { stdout?: Buffer }).stdout ?? error);
      }
      expect(failure).toContain('containerId');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
