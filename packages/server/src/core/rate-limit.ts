import type { MiddlewareHandler } from 'hono';
import type { AppDeps } from './deps.ts';
import { ApiError } from './errors.ts';
import type { AppEnv } from './http.ts';

/** Counts requests per key in fixed windows. */
export interface RateLimiter {
  /** Records one hit; returns 0 when allowed, or the seconds to wait before the next allowed hit. */
  hit(key: string, max: number, windowMs: number, now: number): number;
}

/** In-process limiter for the single-node runtime; a shared store (Redis, KV) replaces it at scale. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  hit(key: string, max: number, windowMs: number, now: number): number {
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      if (this.windows.size > 10_000) this.evict(now);
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count++;
    return window.count > max ? Math.ceil((window.resetAt - now) / 1000) : 0;
  }

  private evict(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}

/**
 * Middleware: at most `limit().max` requests per client address and `limit().windowMs`, counted under
 * `name`; beyond, 429 `rate_limited` with `Retry-After` and `tooMany` as the message.
 */
export function limitPerAddress(
  deps: AppDeps,
  name: string,
  limit: () => { max: number; windowMs: number },
  tooMany: string,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { max, windowMs } = limit();
    const wait = deps.rateLimiter.hit(`${name}:${deps.clientAddress(c)}`, max, windowMs, deps.clock.now());
    if (wait > 0) {
      throw new ApiError(429, 'rate_limited', `${tooMany}; retry in ${wait} s.`, undefined, { 'Retry-After': String(wait) });
    }
    await next();
  };
}
