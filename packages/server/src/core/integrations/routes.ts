import {
  CreateIntegrationRequest,
  CreateIntegrationResponse,
  Integration,
  RotateKeyResponse,
  UpdateIntegrationRequest,
  type SessionConfigInput,
} from '@secureaccess/protocol';
import { requireAdminIfConfigured, requireApiKey } from '../auth.ts';
import { newSecret, sha256Hex } from '../crypto.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { iso, parseJsonColumn, readJson, type ApiRouter, type IntegrationRow } from '../http.ts';
import { UrlNotAllowedError } from '../ports.ts';
import { apiKeyPrefix, createIntegration } from './service.ts';
import { limitPerAddress } from '../rate-limit.ts';
import { endConsoleSessionsOf } from '../console/service.ts';

export function toIntegration(row: IntegrationRow): Integration {
  return {
    id: row.id,
    name: row.name,
    webhookUrl: row.webhook_url,
    allowedOrigins: parseJsonColumn<string[]>(row.allowed_origins, []),
    retentionDays: row.retention_days,
    defaultSessionConfig: parseJsonColumn<SessionConfigInput>(row.default_session_config, {}),
    apiKeyPrefix: row.api_key_prefix,
    createdAt: iso(Number(row.created_at)),
    updatedAt: iso(Number(row.updated_at)),
  };
}

/** Refuses webhook URLs that point at loopback, private or link-local addresses (unless allowed). */
async function checkWebhookUrl(deps: AppDeps, url: string | null | undefined): Promise<void> {
  if (!url) return;
  try {
    await deps.outbound.assertAllowed(url);
  } catch (error) {
    if (error instanceof UrlNotAllowedError) {
      throw new ApiError(400, 'webhook_url_not_allowed', `webhookUrl is not allowed: ${error.message}`);
    }
    throw error;
  }
}

export function registerIntegrationRoutes(api: ApiRouter, deps: AppDeps): void {
  const apiKey = requireApiKey(deps);

  api.route(
    {
      method: 'post',
      path: '/api/integrations',
      tag: 'Integrations',
      summary: 'Create an integration',
      description:
        'Returns the API key and webhook secret, which are shown only here. Open (rate-limited per client address) unless the operator set `SECUREACCESS_ADMIN_TOKEN`, in which case it requires `Authorization: Bearer <admin token>`.',
      auth: 'admin',
      body: CreateIntegrationRequest,
      responses: { 201: { description: 'Created.', schema: CreateIntegrationResponse } },
      errors: ['validation_failed', 'webhook_url_not_allowed', 'rate_limited', 'admin_token_required', 'invalid_admin_token'],
    },
    limitPerAddress(deps, 'create-integration', () => deps.config.integrationCreateLimit, 'Too many integrations created from this address'),
    requireAdminIfConfigured(deps),
    async (c) => {
      const body = await readJson(c, CreateIntegrationRequest, deps.config.maxJsonBytes);
      await checkWebhookUrl(deps, body.webhookUrl);
      const { row, apiKey: apiKeyValue, webhookSecret } = await createIntegration(deps, body);
      return c.json({ ...toIntegration(row), apiKey: apiKeyValue, webhookSecret }, 201);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/integration',
      tag: 'Integrations',
      summary: 'The integration of this API key',
      auth: 'apiKey',
      responses: { 200: { description: 'The integration (no secrets).', schema: Integration } },
    },
    apiKey,
    async (c) => c.json(toIntegration(c.get('integration'))),
  );

  api.route(
    {
      method: 'patch',
      path: '/api/integration',
      tag: 'Integrations',
      summary: 'Update the integration',
      description: 'Any of name, webhookUrl (null removes it), allowedOrigins, retentionDays, defaultSessionConfig (replaces the previous defaults).',
      auth: 'apiKey',
      body: UpdateIntegrationRequest,
      responses: { 200: { description: 'Updated.', schema: Integration } },
      errors: ['validation_failed', 'webhook_url_not_allowed'],
    },
    apiKey,
    async (c) => {
      const body = await readJson(c, UpdateIntegrationRequest, deps.config.maxJsonBytes);
      await checkWebhookUrl(deps, body.webhookUrl);
      const integration = c.get('integration');
      const changes: Partial<IntegrationRow> = { updated_at: deps.clock.now() };
      if (body.name !== undefined) changes.name = body.name;
      if (body.webhookUrl !== undefined) changes.webhook_url = body.webhookUrl;
      if (body.allowedOrigins !== undefined) changes.allowed_origins = JSON.stringify(body.allowedOrigins);
      if (body.retentionDays !== undefined) changes.retention_days = body.retentionDays;
      if (body.defaultSessionConfig !== undefined) changes.default_session_config = JSON.stringify(body.defaultSessionConfig);
      await deps.db.updateTable('integrations').set(changes).where('id', '=', integration.id).execute();
      return c.json(toIntegration({ ...integration, ...changes }));
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/integration/rotate-key',
      tag: 'Integrations',
      summary: 'Rotate the API key',
      description:
        'Issues a new API key, shown only in this response; the old key stops working at once, and every proctor console signed in with it is signed out. Needs the API key itself: the console cookie is refused (403 `api_key_required`).',
      auth: 'apiKey',
      responses: { 200: { description: 'The new key.', schema: RotateKeyResponse } },
      errors: ['api_key_required'],
    },
    requireApiKey(deps, { console: false }),
    async (c) => {
      const integration = c.get('integration');
      const apiKeyValue = newSecret('sa_live_');
      await deps.db
        .updateTable('integrations')
        .set({ api_key_hash: await sha256Hex(apiKeyValue), api_key_prefix: apiKeyPrefix(apiKeyValue), updated_at: deps.clock.now() })
        .where('id', '=', integration.id)
        .execute();
      await endConsoleSessionsOf(deps, integration.id);
      return c.json({ apiKey: apiKeyValue, apiKeyPrefix: apiKeyPrefix(apiKeyValue) });
    },
  );
}
