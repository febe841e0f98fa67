import type { WebhookPayload } from '@secureaccess/protocol';
import type { Insertable } from 'kysely';
import { newId } from '../crypto.ts';
import { PreparedQuery } from '../db/prepared.ts';
import type { WebhookOutboxTable } from '../db/schema.ts';
import type { AppDeps } from '../deps.ts';
import type { IntegrationRow } from '../http.ts';
import type { Tx } from '../tx.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type WebhookEventInput = DistributiveOmit<WebhookPayload, 'id' | 'integrationId'>;

/** Compiled once: every violation and status change of a session with a webhook URL writes one. */
const insertOutboxRow = new PreparedQuery((db, row: Insertable<WebhookOutboxTable>) => db.insertInto('webhook_outbox').values(row));

/**
 * Writes a webhook event to the outbox inside the caller's transaction. Integrations without a
 * webhook URL get no row: events are not kept for a URL that may be set later.
 */
export async function enqueueWebhook(
  deps: AppDeps,
  tx: Tx,
  integration: Pick<IntegrationRow, 'id' | 'webhook_url'>,
  event: WebhookEventInput,
): Promise<string | null> {
  if (!integration.webhook_url) return null;
  const id = newId('evt', 24);
  const payload = { id, integrationId: integration.id, ...event } as WebhookPayload;
  const now = deps.clock.now();
  await insertOutboxRow.run(
    deps.db,
    {
      id,
      integration_id: integration.id,
      session_id: event.sessionId,
      event_type: event.type,
      payload: JSON.stringify(payload),
      status: 'pending',
      attempts: 0,
      next_attempt_at: now,
      locked_until: null,
      last_status_code: null,
      last_error: null,
      last_url: null,
      created_at: now,
      delivered_at: null,
    },
    tx.db,
  );
  tx.afterCommit(() => deps.webhooks.poke());
  return id;
}
