// Builds the proctor console into dist/, which the server serves under /console/assets/:
//   console.js   the single-page app (ESM, minified, linked source map)
//   console.css  the console's styles followed by uPlot's
// Run by the root `npm run build` (and so by `npm start` and `npm test`); well under a second.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const quiet = process.argv.includes('--quiet');

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  target: ['es2020', 'chrome90', 'firefox90', 'safari15'],
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: root,
};

await Promise.all([
  build({ ...common, entryPoints: ['src/main.ts'], outfile: 'dist/console.js', format: 'esm', platform: 'browser' }),
  build({
    ...common,
    // uPlot's stylesheet comes from node_modules, ours from src/; one file keeps the page to one request.
    stdin: {
      contents: '@import "uplot/dist/uPlot.min.css";\n@import "./console.css";\n',
      resolveDir: path.join(root, 'src'),
      sourcefile: 'console-entry.css',
      loader: 'css',
    },
    outfile: 'dist/console.css',
  }),
]);

if (!quiet) {
  const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
  const report = (file) => {
    const bytes = readFileSync(path.join(dist, file));
    return `${kb(statSync(path.join(dist, file)).size)} (${kb(gzipSync(bytes, { level: 9 }).length)} gzip)`;
  };
  console.log(`console built in ${path.relative(process.cwd(), dist) || dist}:`);
  console.log(`  console.js   ${report('console.js')}`);
  console.log(`  console.css  ${report('console.css')}`);
}
