import type { AppDeps } from '../deps.ts';
import type { IntegrationRef, SessionRow } from '../http.ts';
import { transact } from '../tx.ts';
import { SessionMutation } from './state.ts';

/** Every blob of a session lives under this prefix, so erasure can remove them all at once. */
export function sessionBlobPrefix(sessionId: string): string {
  return `sessions/${sessionId}/`;
}

/**
 * Erases a session's personal data: name, e-mail, external user id, photo URL, messages, documents,
 * face images and templates, recordings and violation details. What stays is an anonymous audit row:
 * status, timestamps, scores and violation types. A running session is stopped first (`erased`).
 */
export async function eraseSession(deps: AppDeps, integration: Pick<IntegrationRef, 'id' | 'webhook_url'>, sessionId: string): Promise<SessionRow | null> {
  const row = await transact(deps, async (tx) => {
    const mutation = await SessionMutation.load(deps, tx, integration, sessionId);
    if (!mutation) return null;
    if (mutation.row.status === 'in_progress') await mutation.end('stopped', 'erased');
    Object.assign(mutation.row, {
      external_user_id: null,
      user_name: null,
      user_email: null,
      face_photo_url: null,
      stop_note: null,
      client_score: null,
      erased_at: mutation.row.erased_at ?? deps.clock.now(),
    });
    await tx.db.deleteFrom('messages').where('session_id', '=', sessionId).execute();
    await tx.db.deleteFrom('documents').where('session_id', '=', sessionId).execute();
    await tx.db.deleteFrom('recording_segments').where('session_id', '=', sessionId).execute();
    await tx.db.deleteFrom('idempotency_keys').where('session_id', '=', sessionId).execute();
    await tx.db.updateTable('violations').set({ details: null }).where('session_id', '=', sessionId).execute();
    return mutation.save();
  });
  if (!row) return null;
  // Blobs go after the commit: if this fails, the retention sweep deletes them on its next run.
  try {
    await deps.blobs.deletePrefix(sessionBlobPrefix(sessionId));
  } catch (error) {
    deps.logger.error('blob erasure failed; the retention sweep will retry', { sessionId, error: String(error) });
  }
  return row;
}

/**
 * Retention: erases sessions whose integration's `retentionDays` have passed since they were created,
 * and re-deletes blobs of erased sessions. Returns how many sessions were erased.
 */
export async function purgeExpiredPersonalData(deps: AppDeps, limit = 200): Promise<number> {
  const now = deps.clock.now();
  const due = await deps.db
    .selectFrom('sessions')
    .innerJoin('integrations', 'integrations.id', 'sessions.integration_id')
    .select(['sessions.id', 'sessions.integration_id', 'integrations.webhook_url'])
    .where('sessions.erased_at', 'is', null)
    .where((eb) => eb('sessions.created_at', '<', eb(eb.val(now), '-', eb('integrations.retention_days', '*', 86_400_000))))
    .limit(limit)
    .execute();
  for (const session of due) {
    await eraseSession(deps, { id: session.integration_id, webhook_url: session.webhook_url }, session.id);
  }
  return due.length;
}
