import {
  ListWebhookDeliveriesQuery,
  ListWebhookDeliveriesResponse,
  WebhookDelivery,
  type WebhookPayload,
} from '@secureaccess/protocol';
import type { Selectable } from 'kysely';
import { requireApiKey } from '../auth.ts';
import type { WebhookOutboxTable } from '../db/schema.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { iso, validate, type ApiRouter } from '../http.ts';

type OutboxRow = Selectable<WebhookOutboxTable>;

/** Delivery ids are the event ids written by the outbox (`evt_` + 24 alphanumerics). */
const DELIVERY_ID = /^evt_[A-Za-z0-9]{8,40}$/;

const notFound = () => new ApiError(404, 'webhook_delivery_not_found', 'No such webhook delivery.');

/** Outbox rows with their attempt logs, in the order given. */
async function toDeliveries(deps: AppDeps, rows: OutboxRow[]): Promise<WebhookDelivery[]> {
  const ids = rows.map((row) => row.id);
  const attempts =
    ids.length === 0
      ? []
      : await deps.db
          .selectFrom('webhook_attempts')
          .selectAll()
          .where('delivery_id', 'in', ids)
          .orderBy('seq')
          .execute();
  const byDelivery = new Map<string, WebhookDelivery['attemptLog']>();
  for (const a of attempts) {
    const log = byDelivery.get(a.delivery_id) ?? [];
    log.push({
      attempt: a.attempt,
      at: iso(Number(a.at)),
      statusCode: a.status_code,
      error: a.error,
      durationMs: Number(a.duration_ms),
    });
    byDelivery.set(a.delivery_id, log);
  }
  return rows.map((row) => ({
    id: row.id,
    eventType: row.event_type as WebhookDelivery['eventType'],
    sessionId: row.session_id,
    url: row.last_url,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at === null ? null : iso(Number(row.next_attempt_at)),
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    createdAt: iso(Number(row.created_at)),
    deliveredAt: row.delivered_at === null ? null : iso(Number(row.delivered_at)),
    payload: JSON.parse(row.payload) as WebhookPayload,
    attemptLog: byDelivery.get(row.id) ?? [],
  }));
}

async function loadOwnDelivery(deps: AppDeps, integrationId: string, id: string): Promise<OutboxRow> {
  if (!DELIVERY_ID.test(id)) throw notFound();
  const row = await deps.db
    .selectFrom('webhook_outbox')
    .selectAll()
    .where('id', '=', id)
    .where('integration_id', '=', integrationId)
    .executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

/** The delivery log and manual redelivery (API key; an integration sees only its own deliveries). */
export function registerWebhookRoutes(api: ApiRouter, deps: AppDeps): void {
  const apiKey = requireApiKey(deps);

  api.route(
    {
      method: 'get',
      path: '/api/integration/webhook-deliveries',
      tag: 'Webhooks',
      summary: 'Webhook delivery log (newest first, paginated)',
      description:
        "Every event the outbox holds for this integration, with its payload and each attempt (time, HTTP status, error, duration). `url` is the URL of the last attempt. Filter by `status` or `sessionId`; pass `nextCursor` as `cursor` for the next page.",
      auth: 'apiKey',
      query: ListWebhookDeliveriesQuery,
      responses: { 200: { description: 'A page of deliveries.', schema: ListWebhookDeliveriesResponse } },
      errors: ['validation_failed', 'invalid_cursor', 'invalid_api_key'],
    },
    apiKey,
    async (c) => {
      const query = validate(ListWebhookDeliveriesQuery, c.req.query(), 'query');
      let q = deps.db.selectFrom('webhook_outbox').selectAll().where('integration_id', '=', c.get('integration').id);
      if (query.status) q = q.where('status', '=', query.status);
      if (query.sessionId) q = q.where('session_id', '=', query.sessionId);
      if (query.cursor) q = q.where('seq', '<', decodeCursor(query.cursor, ['number'])[0]);
      const rows = await q.orderBy('seq', 'desc').limit(query.limit + 1).execute();
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      return c.json({
        deliveries: await toDeliveries(deps, page),
        nextCursor: rows.length > query.limit && last ? encodeCursor([Number(last.seq)]) : null,
      });
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/integration/webhook-deliveries/:id',
      tag: 'Webhooks',
      summary: 'One webhook delivery',
      auth: 'apiKey',
      responses: { 200: { description: 'The delivery with its attempt log.', schema: WebhookDelivery } },
      errors: ['webhook_delivery_not_found', 'invalid_api_key'],
    },
    apiKey,
    async (c) => {
      const row = await loadOwnDelivery(deps, c.get('integration').id, c.req.param('id')!);
      const [delivery] = await toDeliveries(deps, [row]);
      return c.json(delivery);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/integration/webhook-deliveries/:id/redeliver',
      tag: 'Webhooks',
      summary: 'Send a delivery again',
      description:
        "Queues the event for an immediate new attempt, whatever its status (`delivered`, `failed` or `pending`), to the integration's current webhook URL. The event keeps its id, so the `webhook-id` header is the same as before: receivers that deduplicate on it will treat it as a repeat. The retry schedule starts over from this attempt; the attempt log keeps counting. While an attempt is in flight the answer is 409 `webhook_delivery_in_flight` with `Retry-After`: wait for that attempt's outcome, then decide.",
      auth: 'apiKey',
      responses: { 202: { description: 'Queued; the delivery as it now stands.', schema: WebhookDelivery } },
      errors: ['webhook_delivery_not_found', 'webhook_delivery_in_flight', 'webhook_url_not_set', 'invalid_api_key'],
    },
    apiKey,
    async (c) => {
      const integration = c.get('integration');
      const integrationId = integration.id;
      const id = c.req.param('id')!;
      const row = await loadOwnDelivery(deps, integrationId, id);
      if (!integration.webhook_url) {
        throw new ApiError(409, 'webhook_url_not_set', 'The integration has no webhook URL: set one with PATCH /api/integration first.');
      }
      const now = deps.clock.now();
      // One conditional update, so a dispatcher that leases the row at the same moment wins cleanly.
      const result = await deps.db
        .updateTable('webhook_outbox')
        .set((eb) => ({ status: 'pending', next_attempt_at: now, retry_base: eb.ref('attempts') }))
        .where('id', '=', row.id)
        .where('integration_id', '=', integrationId)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) {
        const current = await loadOwnDelivery(deps, integrationId, id);
        const waitSeconds = Math.max(1, Math.ceil((Number(current.locked_until ?? now) - now) / 1000));
        throw new ApiError(
          409,
          'webhook_delivery_in_flight',
          'An attempt of this delivery is in flight; retry once it has finished.',
          undefined,
          { 'Retry-After': String(waitSeconds) },
        );
      }
      deps.webhooks.poke();
      const [delivery] = await toDeliveries(deps, [await loadOwnDelivery(deps, integrationId, id)]);
      return c.json(delivery, 202);
    },
  );
}
