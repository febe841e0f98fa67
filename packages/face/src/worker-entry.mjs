// Worker bootstrap: worker threads do not inherit a TypeScript loader reliably (vitest, plain node),
// so the worker registers tsx itself and then loads the real, typed worker.
import { tsImport } from 'tsx/esm/api';

await tsImport('./worker.ts', import.meta.url);
