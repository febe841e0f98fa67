import { ConsentRecord, RecordConsentRequest } from '@secureaccess/protocol';
import { requireSessionToken } from '../auth.ts';
import { sha256Hex } from '../crypto.ts';
import type { AppDeps } from '../deps.ts';
import { errors } from '../errors.ts';
import { iso, readJson, type ApiRouter, type SessionRow } from '../http.ts';
import { transact } from '../tx.ts';

/** Statuses in which the candidate can still give consent (before or during the assessment). */
const CONSENT_STATUSES: readonly SessionRow['status'][] = ['created', 'in_progress'];

function consentRecord(row: Pick<SessionRow, 'consent_at' | 'consent_text_sha256'>): ConsentRecord {
  return { consentAt: iso(Number(row.consent_at)), textSha256: row.consent_text_sha256 ?? '' };
}

/**
 * Records that the candidate accepted the consent text, once: the first record stands, and a repeated
 * call (a retry, a reload) answers it in any state.
 */
export async function recordConsent(deps: AppDeps, sessionId: string, text: string): Promise<{ record: ConsentRecord; created: boolean }> {
  const textSha256 = await sha256Hex(text);
  return transact(deps, async (tx) => {
    const row = await tx.db
      .selectFrom('sessions')
      .select(['status', 'consent_at', 'consent_text_sha256'])
      .where('id', '=', sessionId)
      .executeTakeFirst();
    if (!row) throw errors.sessionNotFound();
    if (row.consent_at !== null) return { record: consentRecord(row), created: false };
    if (!CONSENT_STATUSES.includes(row.status)) {
      throw errors.invalidState('session_ended', `The session is ${row.status}; consent can no longer be recorded.`);
    }
    const recorded = { consent_at: deps.clock.now(), consent_text_sha256: textSha256 };
    await tx.db.updateTable('sessions').set(recorded).where('id', '=', sessionId).where('consent_at', 'is', null).execute();
    return { record: consentRecord(recorded), created: true };
  });
}

/** `POST /api/widget/session/consent` (session token). */
export function registerConsentRoutes(api: ApiRouter, deps: AppDeps): void {
  const token = requireSessionToken(deps);

  api.route(
    {
      method: 'post',
      path: '/api/widget/session/consent',
      tag: 'Widget',
      summary: "Record the candidate's consent",
      description:
        'Called when the candidate accepts the consent text shown, before the camera starts. The server keeps the time and the SHA-256 of the text. The first record stands: a repeated call answers it (200), whatever text it carries. Possible while the session is created or in progress.',
      auth: 'sessionToken',
      body: RecordConsentRequest,
      responses: {
        201: { description: 'Recorded.', schema: ConsentRecord },
        200: { description: 'Consent was already recorded; the first record.', schema: ConsentRecord },
      },
      errors: ['session_ended', 'validation_failed'],
    },
    token,
    async (c) => {
      const body = await readJson(c, RecordConsentRequest, deps.config.maxJsonBytes);
      const { record, created } = await recordConsent(deps, c.get('session').id, body.text);
      return c.json(record, created ? 201 : 200);
    },
  );
}
