/**
 * Ports: what the core needs from the outside world. Adapters (src/adapters) implement them for a
 * runtime; the core only ever sees these interfaces and Web-standard types.
 */

/** Stores opaque bytes under a key. Keys are produced by the core and contain only [A-Za-z0-9/_.-]. */
export interface BlobStore {
  /** Writes the whole object; after it resolves, `get` returns exactly these bytes. Overwrites. */
  put(key: string, data: Uint8Array, contentType: string): Promise<void>;
  /** The object's bytes, or null when there is none. */
  get(key: string): Promise<Uint8Array | null>;
  /** Whether an object is stored under `key`, without reading it. */
  has(key: string): Promise<boolean>;
  /** Removes the object; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Removes every object whose key starts with `prefix`. */
  deletePrefix(prefix: string): Promise<void>;
}

/** Result of enrolling a face from an image. */
export type FaceEnrollResult =
  | { ok: true; template: Uint8Array; quality: Record<string, number> }
  | { ok: false; code: 'no_face' | 'multiple_faces' | 'face_too_small' | 'image_too_blurry' | 'invalid_image'; message: string };

export interface FaceVerifyResult {
  facesDetected: number;
  /** Present only when exactly one face was found. */
  match?: boolean;
  similarity?: number;
  identityScore?: number;
  liveness?: number;
}

/**
 * The engine could not judge the image for a reason that is not the image's content: `busy` (queue
 * full), `unavailable` (the engine failed or is closed), or `invalid_image` (not a decodable image).
 */
export class FaceEngineFailure extends Error {
  constructor(
    readonly code: 'busy' | 'unavailable' | 'invalid_image',
    message: string,
  ) {
    super(message);
    this.name = 'FaceEngineFailure';
  }
}

/**
 * Face enrollment and verification on the server. The real engine lives in adapters (issue #3); when
 * none is configured the API answers 503 `face_engine_unavailable` rather than pretending.
 */
export interface FaceEngine {
  /** Whether the models are loaded and requests can be served. */
  ready(): boolean;
  /** Quality-gated enrollment. Throws FaceEngineFailure ('busy', 'unavailable') when it cannot judge. */
  enroll(image: Uint8Array): Promise<FaceEnrollResult>;
  /**
   * Counts faces and, with exactly one judgeable face, compares it with the template. No `match` when
   * the face is too small or blurred to judge, or the template is of another model version.
   * Throws FaceEngineFailure ('busy', 'unavailable', 'invalid_image').
   */
  verify(image: Uint8Array, template: Uint8Array): Promise<FaceVerifyResult>;
}

/**
 * Outbound HTTP to addresses a customer chose (webhooks, face photo URLs). Implementations refuse
 * loopback, private and link-local targets after DNS resolution, for every connection they open,
 * unless the operator allowed private targets.
 */
export interface OutboundHttp {
  /** Checks that the URL may be called at all (scheme, host resolution, address ranges). Throws `UrlNotAllowedError`. */
  assertAllowed(url: string): Promise<void>;
  /** fetch() with the same guard on every connection; never follows redirects by itself. */
  fetch(url: string, init: RequestInit & { timeoutMs: number }): Promise<Response>;
}

export class UrlNotAllowedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UrlNotAllowedError';
  }
}

/** A notification published to live listeners (SSE) after a change has been committed. */
export interface SessionEvent {
  sessionId: string;
  integrationId: string;
  event: 'status' | 'message' | 'score' | 'violation' | 'document';
  data: unknown;
}

/**
 * Fan-out of committed changes to listeners in this process (and, in a multi-node deployment, in
 * others). Delivery is best effort: listeners reconcile through the REST endpoints after reconnecting.
 */
export interface EventBus {
  publish(event: SessionEvent): void;
  /** Calls `listener` for every event of the session until the returned function is called. */
  subscribe(sessionId: string, listener: (event: SessionEvent) => void): () => void;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * SHA-256 of a credential (API key, session token) as lowercase hex, to look it up by hash. Must give
 * exactly what Web Crypto's digest gives. May answer synchronously: Node's hash costs ~1 µs on the
 * calling thread, where crypto.subtle costs ~10 µs plus a thread-pool round trip on every request.
 */
export interface CredentialHasher {
  sha256Hex(text: string): string | Promise<string>;
}

/**
 * Reads the whole body of the request being served, faster than its Web `Request` can where the
 * runtime has the raw body at hand (on Node, @hono/node-server builds a Request, an AbortSignal and a
 * web stream for the first body read). The core calls it only for a body whose declared
 * Content-Length is within its limit; it resolves to exactly those bytes, or rejects when the client
 * goes away first. Runtimes pass one per request in the Hono env (`AppEnv['Bindings']`).
 */
export type RequestBodyReader = () => Promise<Uint8Array>;

/** A file served as is (the widget's script, its lazy chunks and model files). */
export interface StaticAsset {
  body: Uint8Array;
  /** Full Content-Type header value, e.g. `text/javascript; charset=utf-8`. */
  contentType: string;
  /** Strong entity tag, quotes included; changes whenever the bytes do. */
  etag: string;
}

/**
 * Read-only files shipped with the server, addressed by relative paths such as
 * `widget/models/face.bin`. Implementations answer null for anything that is not a plain file inside
 * their root: absolute paths, `..` or `.` segments, hidden names, directories.
 */
export interface StaticAssets {
  /** The file at `path`, or null when there is none (or the path is refused). */
  get(path: string): Promise<StaticAsset | null>;
}

export interface Clock {
  now(): number;
}
