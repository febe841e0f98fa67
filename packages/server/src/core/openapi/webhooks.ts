import { WebhookPayload, type WebhookEventType } from '@secureaccess/protocol';
import type { OpenApiDocument, OpenApiParameter } from './document.ts';
import type { SchemaCollector } from './schemas.ts';

/** When each event is sent; the reference page shows the same words. */
export const WEBHOOK_EVENT_DESCRIPTIONS: Record<WebhookEventType, string> = {
  'session.started': 'The candidate started the assessment.',
  'session.completed': 'The candidate completed the assessment. Carries the final scores and violation counts.',
  'session.stopped':
    'The session was stopped: by the candidate or the LMS (`manual`), by the server on reaching an auto-stop threshold (`auto:<severity>`), by a proctor, or because it ran past its time (`expired`).',
  'violation.detected': 'A violation was recorded, reported by the widget or decided by the server.',
  'score.submitted': 'The final auth score, sent once per session when it ends (completed, stopped or expired).',
};

/** The Standard Webhooks headers every delivery carries. */
export const WEBHOOK_HEADERS: OpenApiParameter[] = [
  {
    name: 'webhook-id',
    in: 'header',
    required: true,
    description: 'Unique id of the event, the same on every retry: deduplicate on it. Equals the payload\'s `id`.',
    schema: { type: 'string' },
  },
  {
    name: 'webhook-timestamp',
    in: 'header',
    required: true,
    description: 'Seconds since the Unix epoch when this attempt was signed. Refuse timestamps far from now (replays).',
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
  {
    name: 'webhook-signature',
    in: 'header',
    required: true,
    description:
      'Space-separated signatures `v1,<base64>`: HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<raw body>` keyed with the base64-decoded part of the integration\'s `whsec_…` secret.',
    schema: { type: 'string' },
  },
];

function schemaName(type: string): string {
  return (
    type
      .split('.')
      .map((word) => word[0]!.toUpperCase() + word.slice(1))
      .join('') + 'Event'
  );
}

/**
 * The OpenAPI 3.1 `webhooks` section: one entry per event type, the payload as request body and
 * the signature headers as parameters. A 2xx answer acknowledges; anything else is retried.
 */
export function buildWebhooks(schemas: SchemaCollector): OpenApiDocument['webhooks'] {
  const out: OpenApiDocument['webhooks'] = {};
  for (const option of WebhookPayload.options) {
    const type = option.shape.type.value;
    out[type] = {
      post: {
        operationId: `webhook${schemaName(type)}`,
        summary: `\`${type}\``,
        description: WEBHOOK_EVENT_DESCRIPTIONS[type],
        tags: ['Webhooks'],
        security: [],
        parameters: WEBHOOK_HEADERS,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: schemas.convert(option, 'output', { name: schemaName(type) }) } },
        },
        responses: {
          '2XX': { description: 'Acknowledged: the delivery is marked delivered.' },
          default: {
            description:
              'Anything else (or no answer within the delivery timeout, 10 s by default) is retried with exponential back-off over about a day; the attempt is kept in the delivery log.',
          },
        },
        'x-error-codes': [],
      },
    };
  }
  return out;
}
