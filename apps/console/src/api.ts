import { strings } from './strings.ts';

/** An error answer of the API (`{"error":{"code","message"}}`), or a network failure (`network_error`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface RequestOptions {
  /** A JSON body, or FormData for multipart uploads. */
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal;
  /**
   * What a 401 means. Default: the console session is gone, so go to the sign-in page. The login call
   * turns this off, since its 401 means "wrong key".
   */
  redirectOnUnauthorized?: boolean;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let unauthorizedHandler: () => void = () => {
  location.assign(signinPath());
};

/** The sign-in page, coming back to the current page afterwards. */
export function signinPath(next = location.pathname + location.search): string {
  return `/console/signin?next=${encodeURIComponent(next)}`;
}

/** Who takes the user to the sign-in page when the console session has expired (the router). */
export function onUnauthorized(handler: () => void): void {
  unauthorizedHandler = handler;
}

/**
 * Calls the API with the console's session cookie. Unsafe methods carry `X-SecureAccess-Console: 1`,
 * the server's CSRF check for cookie-authenticated requests. Resolves to the parsed JSON (undefined for
 * 204); rejects with an ApiError.
 * @example const { sessions } = await api<ListSessionsResponse>('GET', '/api/widget/sessions', { query: { status } });
 */
export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (UNSAFE.has(method)) headers['X-SecureAccess-Console'] = '1';
  let body: BodyInit | undefined;
  if (options.body instanceof FormData) body = options.body;
  else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
      cache: 'no-store',
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network_error', strings.networkError);
  }
  if (response.status === 401 && options.redirectOnUnauthorized !== false) unauthorizedHandler();
  if (!response.ok) throw await toError(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

async function toError(response: Response): Promise<ApiError> {
  try {
    const data = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    if (data.error && typeof data.error.code === 'string' && typeof data.error.message === 'string') {
      return new ApiError(response.status, data.error.code, data.error.message);
    }
  } catch {
    // Not JSON (a proxy's error page, say): fall through to the generic message.
  }
  return new ApiError(response.status, `http_${response.status}`, strings.unexpectedError(response.status));
}

function withQuery(path: string, query: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** The message to show for any failure. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/** True for the rejection of a request cancelled because the page was left. */
export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
