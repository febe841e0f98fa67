/**
 * Shapes of the API answers the console reads. They come from @secureaccess/protocol as types only, so
 * no schema code (zod) ends up in the bundle.
 */
import type {
  DocumentMeta,
  Message,
  SessionDetail as ProtocolSessionDetail,
  SessionRecording,
  SessionStateResponse,
  SessionStatusEvent,
  SessionSummary,
  Violation as ProtocolViolation,
  WebhookDelivery,
} from '@secureaccess/protocol';
import type { AuthScores } from '@secureaccess/protocol/scoring';

/** A violation as the console sees it: with the path of its kept verification frame, if any. */
export type Violation = ProtocolViolation & { imageUrl?: string | null };
export type SessionDetail = Omit<ProtocolSessionDetail, 'violations'> & { violations: Violation[] };
export type { AuthScores, DocumentMeta, Message, SessionRecording, SessionStateResponse, SessionStatusEvent, SessionSummary, WebhookDelivery };
export type SessionStatus = SessionSummary['status'];
export type Segment = SessionRecording['segments'][number];

export interface ConsoleIdentity {
  integration: { id: string; name: string };
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const SESSION_STATUSES: readonly SessionStatus[] = ['created', 'in_progress', 'completed', 'stopped', 'expired'];
