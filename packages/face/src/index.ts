export { createFaceEngine, enrollFrom, verifyFrom, MIN_FACE_SIZE, MIN_SHARPNESS } from './engine.ts';
export type { FaceEngineHandle, FaceEngineOptions } from './engine.ts';
export { FaceEngineError } from './pool.ts';
export { DETECTOR_STRATEGIES, type DetectorStrategy } from './detect.ts';
export { MAX_INPUT_PIXELS } from './image.ts';
export { TEMPLATE_VERSION, MATCH_DISTANCE, isCurrentTemplate, judgeDistance } from './template.ts';
export type * from './types.ts';
