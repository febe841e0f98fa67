/** The interface between the widget and its lazily loaded detector chunk. */
export interface FaceCounter {
  /** The tfjs backend in use: 'wasm', 'webgl' or 'cpu'. */
  readonly backend: string;
  /** Number of faces in the current frame. */
  count(input: HTMLVideoElement | HTMLCanvasElement): Promise<number>;
  dispose(): void;
}

export interface FaceCounterOptions {
  /** Detector input size (multiple of 32). Default 224. */
  inputSize?: number;
  /** Minimum detection score. Default 0.5. */
  scoreThreshold?: number;
  backends?: readonly string[];
}

export interface DetectorModule {
  createFaceCounter(assetsUrl: string, options?: FaceCounterOptions): Promise<FaceCounter>;
}
