import { constantTimeEqual, newId, newSecret, newWebhookSecret } from '../crypto.ts';
import type { AppDeps } from '../deps.ts';
import type { IntegrationRow } from '../http.ts';

export interface NewIntegration {
  name: string;
  webhookUrl?: string | null;
  allowedOrigins?: string[];
  retentionDays?: number;
}

export interface CreatedIntegration {
  row: IntegrationRow;
  /** `sa_live_…`: returned only here; the database keeps its SHA-256. */
  apiKey: string;
  /** The webhook signing secret, also shown only once (kept sealed). */
  webhookSecret: string;
}

/** The first 12 characters of a key, kept in clear so an operator can tell keys apart. */
export function apiKeyPrefix(apiKey: string): string {
  return apiKey.slice(0, 12);
}

/**
 * Creates an integration with a fresh API key and webhook secret. The caller has already validated the
 * input (and checked the webhook URL against the outbound policy).
 */
export async function createIntegration(deps: AppDeps, input: NewIntegration): Promise<CreatedIntegration> {
  const apiKey = newSecret('sa_live_');
  const webhookSecret = newWebhookSecret();
  const now = deps.clock.now();
  const row: IntegrationRow = {
    id: newId('int'),
    name: input.name,
    webhook_url: input.webhookUrl ?? null,
    allowed_origins: JSON.stringify(input.allowedOrigins ?? []),
    retention_days: input.retentionDays ?? 30,
    default_session_config: '{}',
    api_key_hash: await deps.hasher.sha256Hex(apiKey),
    api_key_prefix: apiKeyPrefix(apiKey),
    webhook_secret_sealed: await deps.secrets.seal(webhookSecret),
    created_at: now,
    updated_at: now,
  };
  await deps.db.insertInto('integrations').values(row).execute();
  return { row, apiKey, webhookSecret };
}

/**
 * Whether integration `id` exists and `apiKey` is its current key: `missing` when the integration is
 * gone (e.g. the data was reset), `key_mismatch` when its key was rotated since.
 */
export async function checkIntegrationKey(deps: AppDeps, id: string, apiKey: string): Promise<'ok' | 'missing' | 'key_mismatch'> {
  const row = await deps.db.selectFrom('integrations').select(['api_key_hash']).where('id', '=', id).executeTakeFirst();
  if (!row) return 'missing';
  const hash = await deps.hasher.sha256Hex(apiKey);
  return constantTimeEqual(row.api_key_hash, hash) ? 'ok' : 'key_mismatch';
}
