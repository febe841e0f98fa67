import { z } from 'zod';
import { AuthScoresSchema, IsoDateTime } from './common.ts';
import { SeverityCountsSchema, Violation } from './session.ts';

export const WEBHOOK_EVENT_TYPES = [
  'session.started',
  'session.completed',
  'session.stopped',
  'violation.detected',
  'score.submitted',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Fields every webhook carries: the seed's payload plus `id` and `integrationId`. */
const WebhookBase = z.object({
  id: z.string().meta({ description: 'Event id; equals the `webhook-id` header. Deduplicate on it.' }),
  integrationId: z.string(),
  sessionId: z.string(),
  externalUserId: z.string().nullable(),
  externalAssessmentId: z.string().nullable(),
  timestamp: IsoDateTime,
  authScore: z.number(),
});

/** What every end-of-session event reports: the final score and the violation counts. */
const Outcome = WebhookBase.extend({ scores: AuthScoresSchema, violationCounts: SeverityCountsSchema });

export const SessionStartedEvent = WebhookBase.extend({ type: z.literal('session.started') });
export const SessionCompletedEvent = Outcome.extend({ type: z.literal('session.completed') });
export const SessionStoppedEvent = Outcome.extend({
  type: z.literal('session.stopped'),
  stopReason: z.string().meta({ description: '`manual` (the widget), `proctor` (API key), `auto:<severity>` (threshold reached), `erased` or `expired`.' }),
  status: z.enum(['stopped', 'expired']),
});
export const ViolationDetectedEvent = WebhookBase.extend({
  type: z.literal('violation.detected'),
  violation: Violation,
  violationCounts: SeverityCountsSchema,
});
export const ScoreSubmittedEvent = Outcome.extend({
  type: z.literal('score.submitted'),
  final: z.literal(true).meta({ description: 'Sent once per session, with the final score, when it ends.' }),
  status: z.enum(['completed', 'stopped', 'expired']),
});

export const WebhookPayload = z
  .discriminatedUnion('type', [
    SessionStartedEvent,
    SessionCompletedEvent,
    SessionStoppedEvent,
    ViolationDetectedEvent,
    ScoreSubmittedEvent,
  ])
  .meta({ id: 'WebhookPayload' });
export type WebhookPayload = z.infer<typeof WebhookPayload>;

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;

export const WebhookAttempt = z.object({
  attempt: z.number().int(),
  at: IsoDateTime,
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  durationMs: z.number().int(),
});

export const WebhookDelivery = z
  .object({
    id: z.string(),
    eventType: z.enum(WEBHOOK_EVENT_TYPES),
    sessionId: z.string().nullable(),
    url: z.string().nullable(),
    status: z.enum(WEBHOOK_DELIVERY_STATUSES).meta({
      description: '`pending` (waiting or retrying), `delivered` (2xx), `failed` (retries exhausted).',
    }),
    attempts: z.number().int(),
    nextAttemptAt: IsoDateTime.nullable(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: IsoDateTime,
    deliveredAt: IsoDateTime.nullable(),
    payload: WebhookPayload,
    attemptLog: z.array(WebhookAttempt),
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

export const ListWebhookDeliveriesQuery = z.object({
  status: z.enum(WEBHOOK_DELIVERY_STATUSES).optional(),
  sessionId: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

export const ListWebhookDeliveriesResponse = z
  .object({ deliveries: z.array(WebhookDelivery), nextCursor: z.string().nullable() })
  .meta({ id: 'ListWebhookDeliveriesResponse' });
