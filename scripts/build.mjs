// Builds every browser bundle the server serves: the widget (packages/widget/dist) and the proctor
// console (apps/console/dist). Run by `npm start`, `npm test` and `npm run build`; a few seconds.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const extra = process.argv.slice(2);
for (const script of ['packages/widget/scripts/build.mjs', 'apps/console/scripts/build.mjs']) {
  const file = path.join(root, script);
  if (!existsSync(file)) continue;
  execFileSync(process.execPath, [file, ...extra], { stdio: 'inherit', cwd: root });
}
