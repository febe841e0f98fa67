// Builds the widget into dist/:
//   secureaccess-widget.js     script-tag bundle (IIFE, global SecureAccessWidget), no ML code
//   esm/index.js + index.d.ts  ES module build with type declarations
//   widget/detector.js         the face detector chunk the widget imports lazily from /widget/
//   widget/models/, widget/wasm/  tiny face detector weights and the tfjs WASM binaries (copied from npm packages)
// Run by `npm start`, `npm test` and `npm run build`; takes about a second.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const require = createRequire(path.join(root, 'package.json'));
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const quiet = process.argv.includes('--quiet');

rmSync(dist, { recursive: true, force: true });
mkdirSync(path.join(dist, 'widget', 'models'), { recursive: true });
mkdirSync(path.join(dist, 'widget', 'wasm'), { recursive: true });

const common = {
  bundle: true,
  target: ['es2020', 'chrome90', 'firefox90', 'safari15'],
  define: { __SA_VERSION__: JSON.stringify(version), 'process.env.NODE_ENV': '"production"' },
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: root,
};

await Promise.all([
  build({ ...common, entryPoints: ['src/global.ts'], outfile: 'dist/secureaccess-widget.js', format: 'iife', minify: true, sourcemap: 'linked' }),
  build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/esm/index.js', format: 'esm', minify: false, sourcemap: 'linked' }),
  build({
    ...common,
    entryPoints: ['src/detector/chunk.ts'],
    outfile: 'dist/widget/detector.js',
    format: 'esm',
    minify: true,
    platform: 'browser',
    alias: { '@tensorflow/tfjs/dist/index.js': './src/detector/tfjs-shim.ts', '@tensorflow/tfjs': './src/detector/tfjs-shim.ts' },
  }),
]);

// Model weights and WASM binaries, served by our own server (nothing is fetched from a CDN).
const faceApiModels = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
for (const file of ['tiny_face_detector_model-weights_manifest.json', 'tiny_face_detector_model.bin']) {
  copyFileSync(path.join(faceApiModels, file), path.join(dist, 'widget', 'models', file));
}
const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
for (const file of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) {
  copyFileSync(path.join(wasmDir, file), path.join(dist, 'widget', 'wasm', file));
}

// Type declarations: tsc emits them for the widget and the protocol files it uses; the ESM entry's
// index.d.ts re-exports them, with the protocol import rewritten to the emitted copy.
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
const typesDir = path.join(dist, 'types', 'widget', 'src');
const rewrite = (dir) => {
  for (const entry of readdirSync(dir)) {
    const file = path.join(dir, entry);
    if (statSync(file).isDirectory()) {
      rewrite(file);
      continue;
    }
    if (!file.endsWith('.d.ts')) continue;
    const depth = path.relative(path.join(dist, 'types'), path.dirname(file)).split(path.sep).length;
    const up = '../'.repeat(depth);
    const text = readFileSync(file, 'utf8').replace(/(['"])@secureaccess\/protocol\/(scoring|violations)\1/g, `$1${up}protocol/src/$2.js$1`);
    writeFileSync(file, text);
  }
};
rewrite(typesDir);
writeFileSync(path.join(dist, 'esm', 'index.d.ts'), "export * from '../types/widget/src/index.js';\n");

if (!quiet) {
  const size = (file) => statSync(path.join(dist, file)).size;
  const gz = (file) => gzipSync(readFileSync(path.join(dist, file)), { level: 9 }).length;
  const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
  console.log(`widget ${version} built in ${path.relative(process.cwd(), dist) || dist}:`);
  console.log(`  secureaccess-widget.js  ${kb(size('secureaccess-widget.js'))} (${kb(gz('secureaccess-widget.js'))} gzip)`);
  console.log(`  widget/detector.js      ${kb(size('widget/detector.js'))} (${kb(gz('widget/detector.js'))} gzip), loaded lazily`);
}
