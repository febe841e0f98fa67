import { ConsoleLoginRequest, ConsoleSession } from '@secureaccess/protocol';
import type { Context } from 'hono';
import { integrationByApiKey } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { limitPerAddress } from '../rate-limit.ts';
import { ApiError } from '../errors.ts';
import { iso, readJson, type ApiRouter, type IntegrationRow } from '../http.ts';
import {
  checkSameOrigin,
  consoleCookieHeader,
  consoleSessionRequired,
  consoleToken,
  endConsoleSession,
  findConsoleSession,
  isSecureRequest,
  purgeExpiredConsoleSessions,
  startConsoleSession,
} from './service.ts';

const NO_STORE = { 'Cache-Control': 'no-store' };

function sessionBody(integration: Pick<IntegrationRow, 'id' | 'name'>, expiresAt: number): ConsoleSession {
  return { integration: { id: integration.id, name: integration.name }, expiresAt: iso(expiresAt) };
}

/** The API key check of sign-in, with messages that tell a person at a form what went wrong. */
async function integrationForSignIn(deps: AppDeps, apiKey: string): Promise<IntegrationRow> {
  if (apiKey.startsWith('sa_sess_')) {
    throw new ApiError(401, 'invalid_api_key', "This is a session token (sa_sess_…), not an API key: sign in with your integration's API key (sa_live_…).");
  }
  if (!apiKey.startsWith('sa_live_')) {
    throw new ApiError(401, 'invalid_api_key', 'This is not an API key: API keys start with sa_live_.');
  }
  try {
    return await integrationByApiKey(deps, apiKey);
  } catch (error) {
    if (error instanceof ApiError && error.code === 'invalid_api_key') {
      throw new ApiError(401, 'invalid_api_key', 'This API key is not valid: use the current key of your integration (a rotated key stops working at once).');
    }
    throw error;
  }
}

/** `POST /api/console/login`, `POST /api/console/logout`, `GET /api/console/me`. */
export function registerConsoleRoutes(api: ApiRouter, deps: AppDeps): void {
  api.route(
    {
      method: 'post',
      path: '/api/console/login',
      tag: 'Console',
      summary: 'Sign in to the proctor console',
      description:
        'Exchanges the API key for an HttpOnly, SameSite=Strict cookie `sa_console` valid for 12 hours. The cookie then works instead of `Authorization: Bearer <apiKey>` on the API-key endpoints (except key rotation); requests other than GET made with it must send `X-SecureAccess-Console: 1` and, if they carry an Origin, come from this server (403 `csrf_check_failed`). Rate-limited per client address.',
      auth: 'none',
      body: ConsoleLoginRequest,
      responses: { 200: { description: 'Signed in; the cookie is set.', schema: ConsoleSession } },
      errors: ['invalid_api_key', 'rate_limited', 'csrf_check_failed'],
    },
    limitPerAddress(deps, 'console-login', () => deps.config.consoleLoginLimit, 'Too many sign-in attempts from this address'),
    async (c) => {
      checkSameOrigin(c);
      const body = await readJson(c, ConsoleLoginRequest, deps.config.maxJsonBytes);
      const integration = await integrationForSignIn(deps, body.apiKey);
      await purgeExpiredConsoleSessions(deps);
      // A fresh token on every sign-in; the one the browser held before (if any) stops working.
      await endConsoleSession(deps, consoleToken(c));
      const { token, expiresAt } = await startConsoleSession(deps, integration.id);
      deps.logger.info('console signed in', { integrationId: integration.id });
      return c.json(sessionBody(integration, expiresAt), 200, { ...NO_STORE, 'Set-Cookie': consoleCookieHeader(token, isSecureRequest(c)) });
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/console/logout',
      tag: 'Console',
      summary: 'Sign out of the proctor console',
      description: 'Ends the console session of the `sa_console` cookie and clears the cookie. Answers 204 even without a session.',
      auth: 'none',
      responses: { 204: { description: 'Signed out.' } },
      errors: ['csrf_check_failed'],
    },
    async (c: Context) => {
      checkSameOrigin(c);
      await endConsoleSession(deps, consoleToken(c));
      return c.body(null, 204, { ...NO_STORE, 'Set-Cookie': consoleCookieHeader(null, isSecureRequest(c)) });
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/console/me',
      tag: 'Console',
      summary: 'The console session',
      description: 'The integration the `sa_console` cookie is signed in as, or 401 `console_session_required`.',
      auth: 'none',
      responses: { 200: { description: 'Signed in.', schema: ConsoleSession } },
      errors: ['console_session_required'],
    },
    async (c) => {
      const found = await findConsoleSession(deps, consoleToken(c));
      if (!found) throw consoleSessionRequired();
      return c.json(sessionBody(found.integration, found.expiresAt), 200, NO_STORE);
    },
  );
}
