import type { Message } from '@secureaccess/protocol';
import type { Selectable } from 'kysely';
import { newId } from '../crypto.ts';
import type { MessagesTable } from '../db/schema.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError, errors } from '../errors.ts';
import { iso } from '../http.ts';
import { TERMINAL_STATUSES } from '../sessions/state.ts';
import { transact } from '../tx.ts';

export type MessageRole = Message['senderRole'];

const MESSAGE_ID = /^msg_[A-Za-z0-9]{8,40}$/;

/** Messages one side may send per session per minute: a chat, not a channel for bulk data. */
export const MESSAGE_RATE = { max: 30, windowMs: 60_000 } as const;

type MessageRow = Omit<Selectable<MessagesTable>, 'seq'>;

export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    sessionId: row.session_id,
    senderRole: row.sender_role,
    body: row.body,
    createdAt: iso(row.created_at),
  };
}

/** Position (seq) of a message of this session, or null when the id is malformed, unknown or another session's. */
export async function messageSeq(deps: AppDeps, sessionId: string, messageId: string): Promise<number | null> {
  if (!MESSAGE_ID.test(messageId)) return null;
  const row = await deps.db
    .selectFrom('messages')
    .select('seq')
    .where('id', '=', messageId)
    .where('session_id', '=', sessionId)
    .executeTakeFirst();
  return row ? Number(row.seq) : null;
}

/** Both sides' messages of a session in the order they were stored, after `afterSeq` (exclusive). */
export async function listMessages(deps: AppDeps, sessionId: string, afterSeq: number | null, limit: number): Promise<Message[]> {
  let q = deps.db.selectFrom('messages').selectAll().where('session_id', '=', sessionId);
  if (afterSeq !== null) q = q.where('seq', '>', afterSeq);
  const rows = await q.orderBy('seq').limit(limit).execute();
  return rows.map(toMessage);
}

/** Like listMessages, with `after` given as a message id: 400 `invalid_after` unless it is one of this session's. */
export async function listMessagesAfterId(deps: AppDeps, sessionId: string, after: string | undefined, limit: number): Promise<Message[]> {
  let afterSeq: number | null = null;
  if (after !== undefined && after !== '') {
    afterSeq = await messageSeq(deps, sessionId, after);
    if (afterSeq === null) {
      throw new ApiError(400, 'invalid_after', '`after` must be the id of a message of this session.');
    }
  }
  return listMessages(deps, sessionId, afterSeq, limit);
}

/** Id of the session's newest message, or null when there is none. */
export async function lastMessageId(deps: AppDeps, sessionId: string): Promise<string | null> {
  const row = await deps.db
    .selectFrom('messages')
    .select('id')
    .where('session_id', '=', sessionId)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.id ?? null;
}

/** 429 `rate_limited` when this side of the session has sent too many messages lately. */
export function checkMessageRate(deps: AppDeps, sessionId: string, role: MessageRole): void {
  const wait = deps.rateLimiter.hit(`messages:${sessionId}:${role}`, MESSAGE_RATE.max, MESSAGE_RATE.windowMs, deps.clock.now());
  if (wait > 0) {
    throw new ApiError(429, 'rate_limited', `Too many messages; retry in ${wait} s.`, undefined, { 'Retry-After': String(wait) });
  }
}

/**
 * Stores a message and, once committed, publishes it on the bus as a `message` event. The session's
 * state is read inside the transaction, so a message never lands on a session that has just ended.
 */
export async function postMessage(deps: AppDeps, sessionId: string, role: MessageRole, body: string): Promise<Message> {
  return transact(deps, async (tx) => {
    const session = await tx.db
      .selectFrom('sessions')
      .select(['status', 'integration_id', 'erased_at'])
      .where('id', '=', sessionId)
      .executeTakeFirst();
    if (!session) throw errors.sessionNotFound();
    if (session.erased_at !== null) throw sessionErased();
    if (TERMINAL_STATUSES.has(session.status)) {
      throw errors.invalidState('session_ended', `The session is ${session.status}; messages can still be read but no longer sent.`);
    }
    const row: MessageRow = {
      id: newId('msg'),
      session_id: sessionId,
      sender_role: role,
      body,
      created_at: deps.clock.now(),
    };
    await tx.db.insertInto('messages').values(row).execute();
    const message = toMessage(row);
    tx.afterCommit(() =>
      deps.bus.publish({ sessionId, integrationId: session.integration_id, event: 'message', data: message }),
    );
    return message;
  });
}

/** The session's personal data, messages included, has been erased. */
export function sessionErased(): ApiError {
  return new ApiError(410, 'session_erased', "This session's personal data has been erased; its messages are gone.");
}
