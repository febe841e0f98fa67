import type { Context, MiddlewareHandler } from 'hono';
import { constantTimeEqual, sha256Hex } from './crypto.ts';
import { PreparedQuery } from './db/prepared.ts';
import type { AppDeps } from './deps.ts';
import { ApiError, errors } from './errors.ts';
import type { AppEnv, IntegrationRow } from './http.ts';
import { checkConsoleCsrf, consoleSessionRequired, consoleToken, findConsoleSession } from './console/service.ts';
import { expireIfOverdue } from './sessions/service.ts';

function bearer(c: Context): string {
  const header = c.req.header('authorization');
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match?.[1]) throw errors.unauthorized();
  return match[1];
}

/** The integration an API key belongs to; 401 `invalid_api_key` for anything else. */
export async function integrationByApiKey(deps: AppDeps, key: string): Promise<IntegrationRow> {
  if (!key.startsWith('sa_live_')) {
    if (key.startsWith('sa_sess_')) {
      throw new ApiError(401, 'invalid_api_key', 'This endpoint needs the integration API key, not a session token.');
    }
    throw errors.invalidApiKey();
  }
  const hash = await deps.hasher.sha256Hex(key);
  const integration = await deps.db
    .selectFrom('integrations')
    .selectAll()
    .where('api_key_hash', '=', hash)
    .executeTakeFirst();
  // The lookup is by hash; the comparison below keeps the final check constant-time as well.
  if (!integration || !constantTimeEqual(integration.api_key_hash, hash)) throw errors.invalidApiKey();
  return integration;
}

/**
 * API key (`sa_live_…`) of an integration. A session token here is refused as a wrong kind of credential.
 * Without an Authorization header, the proctor console's `sa_console` cookie is accepted instead (unless
 * `console: false`), under the CSRF rule of checkConsoleCsrf; a request with both uses the header.
 */
export function requireApiKey(deps: AppDeps, options: { console?: boolean } = {}): MiddlewareHandler<AppEnv> {
  const allowConsole = options.console ?? true;
  return async (c, next) => {
    if (c.req.header('authorization') === undefined) {
      const token = consoleToken(c);
      if (token !== undefined) {
        if (!allowConsole) {
          throw new ApiError(403, 'api_key_required', 'This operation needs the API key itself (Authorization: Bearer sa_live_…), not a console session.');
        }
        checkConsoleCsrf(c);
        const found = await findConsoleSession(deps, token);
        if (!found) throw consoleSessionRequired();
        c.set('integration', found.integration);
        await next();
        return;
      }
    }
    c.set('integration', await integrationByApiKey(deps, bearer(c)));
    await next();
  };
}

/** A session and what the widget routes need of its integration, by token hash (every widget call). */
const sessionByTokenHash = new PreparedQuery((db, p: { hash: string }) =>
  db
    .selectFrom('sessions')
    .innerJoin('integrations', 'integrations.id', 'sessions.integration_id')
    .selectAll('sessions')
    .select([
      'integrations.webhook_url as i_webhook_url',
      'integrations.allowed_origins as i_allowed_origins',
      'integrations.name as i_name',
    ])
    .where('sessions.token_hash', '=', p.hash),
);

/** Session token (`sa_sess_…`): the browser's credential for exactly one session. */
export function requireSessionToken(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearer(c);
    if (!token.startsWith('sa_sess_')) {
      if (token.startsWith('sa_live_')) {
        throw new ApiError(401, 'invalid_session_token', 'This endpoint needs a session token, not an API key.');
      }
      throw errors.invalidSessionToken();
    }
    const hash = await deps.hasher.sha256Hex(token);
    const found = await sessionByTokenHash.first(deps.db, { hash });
    if (!found || !constantTimeEqual(found.token_hash, hash)) throw errors.invalidSessionToken();
    const { i_webhook_url, i_allowed_origins, i_name, ...session } = found;
    if (session.erased_at !== null) throw errors.invalidSessionToken();

    const origin = c.req.header('origin');
    const allowed = JSON.parse(i_allowed_origins) as string[];
    if (origin && allowed.length > 0 && !allowed.includes(origin)) {
      throw new ApiError(403, 'origin_not_allowed', `Origin ${origin} is not allowed for this integration.`);
    }

    const now = deps.clock.now();
    if (now >= Number(session.expires_at)) {
      await expireIfOverdue(deps, { id: session.integration_id, webhook_url: i_webhook_url }, session);
      throw errors.sessionTokenExpired();
    }
    const current = await expireIfOverdue(deps, { id: session.integration_id, webhook_url: i_webhook_url }, session);
    c.set('session', current);
    c.set('integrationRef', { id: session.integration_id, webhook_url: i_webhook_url, name: i_name });
    await next();
  };
}

/** Admin token for creating integrations, when the operator set one. */
export function requireAdminIfConfigured(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const adminToken = deps.config.adminToken;
    if (adminToken) {
      const header = c.req.header('authorization');
      const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
      if (!match?.[1]) throw new ApiError(401, 'admin_token_required', 'Creating integrations requires the admin token.');
      const [given, expected] = await Promise.all([sha256Hex(match[1]), sha256Hex(adminToken)]);
      if (!constantTimeEqual(given, expected)) throw new ApiError(401, 'invalid_admin_token', 'The admin token is not valid.');
    }
    await next();
  };
}
