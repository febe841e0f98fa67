import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { constantTimeEqual, newId, newSecret } from '../crypto.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import type { IntegrationRow } from '../http.ts';

/**
 * Proctor console sessions. Signing in with the API key sets an HttpOnly cookie holding a random
 * token (`sa_con_…`); the database keeps only its hash, never the key. The cookie then stands in for
 * `Authorization: Bearer <apiKey>` on the API-key endpoints (see requireApiKey), for 12 hours.
 */
export const CONSOLE_COOKIE = 'sa_console';
export const CONSOLE_SESSION_MS = 12 * 60 * 60 * 1000;
/** The header every unsafe request made with the cookie must carry (a cross-site form cannot send it). */
export const CONSOLE_CSRF_HEADER = 'X-SecureAccess-Console';
const TOKEN_PREFIX = 'sa_con_';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function consoleSessionRequired(): ApiError {
  return new ApiError(401, 'console_session_required', 'Sign in to the console: the console session is missing or has expired.');
}

function csrfFailed(reason: string): ApiError {
  return new ApiError(403, 'csrf_check_failed', `Request refused by the cross-site request check: ${reason}`);
}

/** The `sa_console` cookie of the request, if any. */
export function consoleToken(c: Context): string | undefined {
  const token = getCookie(c, CONSOLE_COOKIE);
  return token ? token : undefined;
}

/** Whether the browser reached this server over https (directly or through a proxy that says so). */
export function isSecureRequest(c: Context): boolean {
  const forwarded = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  return forwarded === 'https' || new URL(c.req.url).protocol === 'https:';
}

/**
 * The origins this server answers on: the request URL's, and the one a reverse proxy reports.
 * Trusting X-Forwarded-* here is safe: a cross-site page cannot set those headers (they are not
 * CORS-safelisted), and a client outside a browser has no CSRF to commit.
 */
function ownOrigins(c: Context): string[] {
  const url = new URL(c.req.url);
  const origins = [url.origin];
  const proto = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  const host = c.req.header('x-forwarded-host')?.split(',')[0]?.trim() ?? c.req.header('host');
  if (proto || host) origins.push(`${proto ?? url.protocol.replace(/:$/, '')}://${host ?? url.host}`.toLowerCase());
  return origins;
}

/** 403 `csrf_check_failed` when the request carries an `Origin` other than this server's. */
export function checkSameOrigin(c: Context): void {
  const origin = c.req.header('origin');
  if (origin === undefined) return;
  if (!ownOrigins(c).includes(origin.toLowerCase())) throw csrfFailed(`Origin ${origin} is not this server.`);
}

/**
 * The CSRF rule for cookie-authenticated requests: unsafe methods must send `X-SecureAccess-Console: 1`
 * and, when the browser sends an Origin, come from this server's own origin.
 */
export function checkConsoleCsrf(c: Context): void {
  if (SAFE_METHODS.has(c.req.method)) return;
  if (c.req.header(CONSOLE_CSRF_HEADER) !== '1') {
    throw csrfFailed(`requests authenticated by the console cookie must send the header ${CONSOLE_CSRF_HEADER}: 1.`);
  }
  checkSameOrigin(c);
}

export interface ConsoleSessionFound {
  id: string;
  expiresAt: number;
  integration: IntegrationRow;
}

/** The live console session of a cookie token, or null (unknown, malformed or expired; expired rows are deleted). */
export async function findConsoleSession(deps: AppDeps, token: string | undefined): Promise<ConsoleSessionFound | null> {
  if (!token || !token.startsWith(TOKEN_PREFIX) || token.length > 100) return null;
  const hash = await deps.hasher.sha256Hex(token);
  const found = await deps.db
    .selectFrom('console_sessions')
    .innerJoin('integrations', 'integrations.id', 'console_sessions.integration_id')
    .selectAll('integrations')
    .select([
      'console_sessions.id as cs_id',
      'console_sessions.token_hash as cs_token_hash',
      'console_sessions.expires_at as cs_expires_at',
    ])
    .where('console_sessions.token_hash', '=', hash)
    .executeTakeFirst();
  if (!found || !constantTimeEqual(found.cs_token_hash, hash)) return null;
  const { cs_id, cs_token_hash: _hash, cs_expires_at, ...integration } = found;
  if (deps.clock.now() >= Number(cs_expires_at)) {
    await deps.db.deleteFrom('console_sessions').where('id', '=', cs_id).execute();
    return null;
  }
  return { id: cs_id, expiresAt: Number(cs_expires_at), integration };
}

/** Starts a console session for an integration whose API key was just checked; returns the cookie token. */
export async function startConsoleSession(deps: AppDeps, integrationId: string): Promise<{ token: string; expiresAt: number }> {
  const now = deps.clock.now();
  const token = newSecret(TOKEN_PREFIX);
  const expiresAt = now + CONSOLE_SESSION_MS;
  await deps.db
    .insertInto('console_sessions')
    .values({ id: newId('con'), token_hash: await deps.hasher.sha256Hex(token), integration_id: integrationId, created_at: now, expires_at: expiresAt })
    .execute();
  return { token, expiresAt };
}

/** Ends the console session of a cookie token (nothing happens for an unknown one). */
export async function endConsoleSession(deps: AppDeps, token: string | undefined): Promise<void> {
  if (!token || !token.startsWith(TOKEN_PREFIX) || token.length > 100) return;
  const hash = await deps.hasher.sha256Hex(token);
  await deps.db.deleteFrom('console_sessions').where('token_hash', '=', hash).execute();
}

/** Signs every console out of an integration (its API key was rotated). */
export async function endConsoleSessionsOf(deps: AppDeps, integrationId: string): Promise<void> {
  await deps.db.deleteFrom('console_sessions').where('integration_id', '=', integrationId).execute();
}

/** Deletes expired console sessions; returns how many. */
export async function purgeExpiredConsoleSessions(deps: AppDeps): Promise<number> {
  const result = await deps.db.deleteFrom('console_sessions').where('expires_at', '<=', deps.clock.now()).executeTakeFirst();
  return Number(result.numDeletedRows ?? 0n);
}

/** `Set-Cookie` value that stores the console token (or, with `null`, clears it). */
export function consoleCookieHeader(token: string | null, secure: boolean): string {
  const maxAge = token === null ? 0 : CONSOLE_SESSION_MS / 1000;
  return `${CONSOLE_COOKIE}=${token ?? ''}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}
