/** The widget's HTTP client for `/api/widget/session/*` (session token). */

/** An error the widget reports through `onError` and rejected promises: `{code, message}`. */
export class SecureAccessError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 0) {
    super(message);
    this.name = 'SecureAccessError';
    this.code = code;
    this.status = status;
  }
  /** True for failures worth retrying later: no connection, timeouts, 5xx, 429, a busy face engine. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

export interface RequestOptions {
  method?: string;
  json?: unknown;
  body?: BodyInit;
  contentType?: string;
  query?: Record<string, string | number>;
  timeoutMs?: number;
  /** Keeps the request alive while the page unloads (small bodies only). */
  keepalive?: boolean;
}

export class ApiClient {
  /** Called after every request with whether the server answered at all. */
  onConnectivity: (online: boolean) => void = () => {};

  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  url(path: string, query?: Record<string, string | number>): string {
    const url = new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, String(v));
    return url.toString();
  }

  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.raw(path, options);
    const text = await response.text();
    return (text ? JSON.parse(text) : null) as T;
  }

  /** The response of a successful request (2xx); anything else throws a SecureAccessError. */
  async raw(path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}` };
    let body = options.body;
    if (options.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.contentType) {
      headers['Content-Type'] = options.contentType;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 30_000);
    let response: Response;
    try {
      response = await fetch(this.url(path, options.query), {
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        body: body ?? null,
        signal: controller.signal,
        keepalive: options.keepalive ?? false,
        credentials: 'omit',
        mode: 'cors',
      });
    } catch (error) {
      clearTimeout(timer);
      this.onConnectivity(false);
      const aborted = error instanceof DOMException && error.name === 'AbortError';
      throw new SecureAccessError(aborted ? 'timeout' : 'network_error', aborted ? 'The server did not answer in time.' : 'The server cannot be reached.');
    }
    clearTimeout(timer);
    this.onConnectivity(true);
    if (response.ok) return response;
    let code = `http_${response.status}`;
    let message = `The server answered HTTP ${response.status}.`;
    try {
      const parsed = (await response.json()) as { error?: { code?: string; message?: string } };
      if (parsed.error?.code) code = parsed.error.code;
      if (parsed.error?.message) message = parsed.error.message;
    } catch {
      // Not JSON: keep the generic message.
    }
    throw new SecureAccessError(code, message, response.status);
  }
}

/** Retries `run` while it fails with a retryable error, with exponential back-off and jitter. */
export async function withRetry<T>(
  run: () => Promise<T>,
  options: { attempts?: number; baseMs?: number; maxMs?: number; stopped?: () => boolean } = {},
): Promise<T> {
  const attempts = options.attempts ?? Infinity;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const retryable = error instanceof SecureAccessError && error.retryable;
      if (!retryable || attempt >= attempts || options.stopped?.()) throw error;
      await sleep(backoff(attempt, options.baseMs ?? 1000, options.maxMs ?? 30_000));
    }
  }
}

export function backoff(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A random id for client events (violations, segments): retries reuse it so nothing counts twice. */
export function clientId(prefix: string): string {
  return `${prefix}_${toHex(crypto.getRandomValues(new Uint8Array(12)))}`;
}

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}
