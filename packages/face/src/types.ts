/**
 * The shapes of the server's `FaceEngine` port (packages/server/src/core/ports.ts), repeated here so that
 * this package does not depend on the server at run time: the server's Node runtime imports this
 * package, never the other way round. TypeScript's structural typing makes an engine built here
 * assignable to the port; keep the two in step.
 */

export type FaceEnrollErrorCode = 'no_face' | 'multiple_faces' | 'face_too_small' | 'image_too_blurry' | 'invalid_image';

export type FaceEnrollResult =
  | { ok: true; template: Uint8Array; quality: Record<string, number> }
  | { ok: false; code: FaceEnrollErrorCode; message: string };

export interface FaceVerifyResult {
  facesDetected: number;
  /** Present only when exactly one face was found (and the template is of the current model). */
  match?: boolean;
  similarity?: number;
  identityScore?: number;
  liveness?: number;
}

export interface FaceEngine {
  ready(): boolean;
  enroll(image: Uint8Array): Promise<FaceEnrollResult>;
  verify(image: Uint8Array, template: Uint8Array): Promise<FaceVerifyResult>;
}

/** A face found in an image, in the pixel coordinates of the image as uploaded (after EXIF rotation). */
export interface DetectedFace {
  score: number;
  box: { x: number; y: number; width: number; height: number };
}

/** What a worker found in one image; the engine turns it into an enroll or verify verdict. */
export type ImageAnalysis =
  | { ok: false; reason: 'invalid_image'; message: string }
  | {
      ok: true;
      width: number;
      height: number;
      faces: DetectedFace[];
      /** The face chosen for recognition (largest, most central), absent when no face was found. */
      primary?: {
        index: number;
        descriptor: Float32Array;
        /** Width of the inner face (eyes to mouth region) in pixels of the uploaded image. */
        faceSize: number;
        /** Variance of the Laplacian on the aligned grey face chip; low means blurred. */
        sharpness: number;
      };
      timings: { decodeMs: number; detectMs: number; embedMs: number };
    };
