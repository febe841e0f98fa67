import { z } from 'zod';
import { AuthScoresSchema } from './common.ts';
import { SESSION_STATUSES, SessionStateResponse, WidgetSession } from './session.ts';

/**
 * Event names on the live stream (`GET /api/widget/session/events`, `GET /api/widget/sessions/:id/events`).
 * `snapshot` comes first on every connection; the others follow as changes are committed:
 * `status` (SessionStatusEvent), `score` (AuthScores), `violation` (Violation), `message` (Message),
 * `document` (Document).
 */
export const LIVE_EVENT_TYPES = ['snapshot', 'status', 'score', 'violation', 'message', 'document'] as const;
export type LiveEventType = (typeof LIVE_EVENT_TYPES)[number];

/** Data of a `status` event: the session's lifecycle state after a transition. */
export const SessionStatusEvent = z
  .object({
    status: z.enum(SESSION_STATUSES),
    stopReason: z.string().nullable(),
    authScore: z.number(),
    scores: AuthScoresSchema,
  })
  .meta({ id: 'SessionStatusEvent' });
export type SessionStatusEvent = z.infer<typeof SessionStatusEvent>;

const lastMessageId = z
  .string()
  .nullable()
  .meta({ description: 'Newest message covered by this connection: fetch older ones with GET …/messages.' });

/** Data of the first event on the candidate's stream. */
export const WidgetEventsSnapshot = z
  .object({ session: WidgetSession, lastMessageId })
  .meta({ id: 'WidgetEventsSnapshot' });
export type WidgetEventsSnapshot = z.infer<typeof WidgetEventsSnapshot>;

/** Data of the first event on the proctor's stream. */
export const SessionEventsSnapshot = z
  .object({ session: SessionStateResponse, lastMessageId })
  .meta({ id: 'SessionEventsSnapshot' });
export type SessionEventsSnapshot = z.infer<typeof SessionEventsSnapshot>;
