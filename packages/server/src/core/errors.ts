/**
 * The one error type routes throw. `onError` in app.ts turns it into `{"error": {code, message}}`;
 * anything else becomes a logged 500 whose body says nothing about internals.
 */
export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 410 | 413 | 415 | 422 | 429 | 503;

export class ApiError extends Error {
  constructor(
    readonly status: ErrorStatus,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Codes shared by several features. Feature-specific codes are written where they are thrown. */
export const errors = {
  unauthorized: (message = 'Missing or malformed Authorization header: expected "Bearer <token>".') =>
    new ApiError(401, 'unauthorized', message),
  invalidApiKey: () => new ApiError(401, 'invalid_api_key', 'The API key is not valid.'),
  invalidSessionToken: () => new ApiError(401, 'invalid_session_token', 'The session token is not valid.'),
  sessionTokenExpired: () => new ApiError(401, 'session_token_expired', 'The session token has expired.'),
  sessionNotFound: () => new ApiError(404, 'session_not_found', 'No such session.'),
  notFound: (what: string) => new ApiError(404, `${what}_not_found`, `No such ${what.replace(/_/g, ' ')}.`),
  validation: (details: unknown, message = 'The request is not valid.') =>
    new ApiError(400, 'validation_failed', message, details),
  invalidJson: () => new ApiError(400, 'invalid_json', 'The request body is not valid JSON.'),
  invalidState: (code: string, message: string) => new ApiError(409, code, message),
  payloadTooLarge: (limitBytes: number) =>
    new ApiError(413, 'payload_too_large', `The request body is larger than ${limitBytes} bytes.`),
} as const;
