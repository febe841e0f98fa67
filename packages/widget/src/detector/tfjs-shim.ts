/**
 * face-api's unbundled build imports the whole `@tensorflow/tfjs` (layers, data, converter…). The
 * detector chunk aliases that import to this file: tfjs-core with the CPU kernels is all face-api's
 * tiny face detector needs, which keeps the lazily loaded chunk small. (The WASM and WebGL backends are
 * imported by face-api itself.)
 */
export * from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Tensor methods such as `t.as4D()` that face-api calls (the full tfjs registers them the same way).
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
