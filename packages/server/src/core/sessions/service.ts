import {
  resolveSessionConfig,
  type CreateSessionResponse,
  type SessionConfigInput,
  type SessionDetail,
  type SessionSummary,
  type WidgetSession,
  CreateSessionRequest,
} from '@secureaccess/protocol';
import type { z } from 'zod';
import { newId, newSecret, sha256Hex } from '../crypto.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { iso, parseJsonColumn, type IntegrationRef, type IntegrationRow, type SessionRow } from '../http.ts';
import { transact } from '../tx.ts';
import { enrollFromPhotoUrl, violationImagePath, violationsWithImages } from '../face/service.ts';
import { recordingSummary } from '../recording/service.ts';
import {
  scoresFromState,
  sessionConfig,
  severityCounts,
  storedScores,
  SessionMutation,
  TERMINAL_STATUSES,
  violationFromRow,
} from './state.ts';

type CreateInput = z.output<typeof CreateSessionRequest>;

/** Hash of the request body that an Idempotency-Key is bound to. */
async function requestFingerprint(body: CreateInput): Promise<string> {
  return sha256Hex(JSON.stringify(body));
}

/**
 * Creates a session and its token. With an Idempotency-Key, a retry with the same body returns the
 * first response (token included, kept sealed at rest); the same key with another body is refused.
 */
export async function createSession(
  deps: AppDeps,
  integration: IntegrationRow,
  body: CreateInput,
  idempotencyKey: string | undefined,
): Promise<{ status: 200 | 201; response: CreateSessionResponse }> {
  const fingerprint = idempotencyKey ? await requestFingerprint(body) : '';
  if (idempotencyKey) {
    const replay = await findIdempotentReply(deps, integration.id, idempotencyKey, fingerprint);
    if (replay) return { status: 200, response: replay };
  }

  const now = deps.clock.now();
  const integrationDefaults = parseJsonColumn<SessionConfigInput>(integration.default_session_config, {});
  const config = resolveSessionConfig(integrationDefaults, body.config);
  if (config.faceAbsentExtendedSeconds <= config.faceAbsentBriefSeconds) {
    throw new ApiError(
      400,
      'validation_failed',
      'config.faceAbsentExtendedSeconds must be greater than config.faceAbsentBriefSeconds.',
    );
  }
  const sessionId = newId('ses');
  const sessionToken = newSecret('sa_sess_');
  const row: SessionRow = {
    id: sessionId,
    integration_id: integration.id,
    token_hash: await sha256Hex(sessionToken),
    external_user_id: body.externalUserId,
    external_assessment_id: body.externalAssessmentId ?? null,
    user_name: body.userName ?? null,
    user_email: body.userEmail ?? null,
    assessment_title: body.assessmentTitle ?? null,
    assessment_type: body.assessmentType,
    face_photo_url: body.facePhotoUrl ?? null,
    config: JSON.stringify(config),
    status: 'created',
    stop_reason: null,
    stop_note: null,
    created_at: now,
    started_at: null,
    ended_at: null,
    expires_at: now + deps.config.startWindowMs,
    erased_at: null,
    consent_at: null,
    consent_text_sha256: null,
    enrollment_status: body.facePhotoUrl ? 'pending' : 'none',
    enrollment_source: null,
    enrollment_reason: null,
    enrolled_at: null,
    identity_sum: 0,
    identity_count: 0,
    monitored_ms: 0,
    one_face_ms: 0,
    last_sample_at: null,
    last_sample_faces: null,
    absent_since: null,
    absent_extended_raised: 0,
    multi_since: null,
    multi_raised: 0,
    count_low: 0,
    count_medium: 0,
    count_high: 0,
    count_critical: 0,
    behavioral_low: 0,
    behavioral_medium: 0,
    behavioral_high: 0,
    behavioral_critical: 0,
    score_overall: 0,
    score_identity: 0,
    score_presence: 100,
    score_behavioral: 100,
    client_score: null,
    client_score_at: null,
  };
  const scores = scoresFromState(row);
  row.score_overall = scores.overall;
  row.score_identity = scores.identity;
  row.score_presence = scores.presence;
  row.score_behavioral = scores.behavioral;

  const response: CreateSessionResponse = {
    sessionId,
    sessionToken,
    expiresAt: iso(row.expires_at),
    status: 'created',
    enrollment: { status: row.enrollment_status },
  };
  try {
    await transact(deps, async (tx) => {
      await tx.db.insertInto('sessions').values(row).execute();
      if (idempotencyKey) {
        await tx.db
          .insertInto('idempotency_keys')
          .values({
            integration_id: integration.id,
            key: idempotencyKey,
            request_hash: fingerprint,
            session_id: sessionId,
            response_sealed: await deps.secrets.seal(JSON.stringify(response)),
            created_at: now,
          })
          .execute();
      }
    });
  } catch (error) {
    // Two requests with one key raced: the loser answers with the winner's reply.
    if (idempotencyKey && /unique|constraint/i.test(String(error))) {
      const replay = await findIdempotentReply(deps, integration.id, idempotencyKey, fingerprint);
      if (replay) return { status: 200, response: replay };
    }
    throw error;
  }
  if (body.facePhotoUrl) {
    response.enrollment = await enrollFromPhotoUrl(deps, integration, sessionId, body.facePhotoUrl);
    // A replay of this request reports the state then current, not this first outcome.
  }
  return { status: 201, response };
}

async function findIdempotentReply(
  deps: AppDeps,
  integrationId: string,
  key: string,
  fingerprint: string,
): Promise<CreateSessionResponse | null> {
  const found = await deps.db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('key', '=', key)
    .executeTakeFirst();
  if (!found) return null;
  if (found.request_hash !== fingerprint) {
    throw new ApiError(
      422,
      'idempotency_key_reused',
      'This Idempotency-Key was already used with a different request body.',
    );
  }
  const response = JSON.parse(await deps.secrets.open(found.response_sealed)) as CreateSessionResponse;
  const session = await deps.db
    .selectFrom('sessions')
    .select(['status', 'enrollment_status', 'enrollment_reason'])
    .where('id', '=', found.session_id)
    .executeTakeFirst();
  if (session) {
    response.status = session.status;
    response.enrollment = {
      status: session.enrollment_status,
      ...(session.enrollment_reason ? { reason: session.enrollment_reason } : {}),
    };
  }
  return response;
}

/**
 * Expires a session whose time is up: a started one past maxDurationMinutes, or one never started
 * past its start window. Returns the current row (changed or not).
 */
export async function expireIfOverdue(deps: AppDeps, integration: Pick<IntegrationRef, 'id' | 'webhook_url'>, row: SessionRow): Promise<SessionRow> {
  if (!isOverdue(deps, row)) return row;
  return transact(deps, async (tx) => {
    const mutation = await SessionMutation.load(deps, tx, integration, row.id);
    if (!mutation || !isOverdue(deps, mutation.row)) return mutation?.row ?? row;
    await mutation.end('expired', 'expired');
    return mutation.save();
  });
}

function isOverdue(deps: AppDeps, row: SessionRow): boolean {
  const now = deps.clock.now();
  if (row.status === 'in_progress' && row.started_at !== null) {
    return now >= Number(row.started_at) + sessionConfig(row).maxDurationMinutes * 60_000;
  }
  return row.status === 'created' && now >= Number(row.expires_at);
}

/** Expires every overdue session (run periodically by the runtime). Returns how many changed. */
export async function expireOverdueSessions(deps: AppDeps, limit = 100): Promise<number> {
  const now = deps.clock.now();
  const candidates = await deps.db
    .selectFrom('sessions')
    .innerJoin('integrations', 'integrations.id', 'sessions.integration_id')
    .selectAll('sessions')
    .select('integrations.webhook_url as i_webhook_url')
    .where((eb) =>
      eb.or([
        eb('sessions.status', '=', 'in_progress'),
        eb.and([eb('sessions.status', '=', 'created'), eb('sessions.expires_at', '<=', now)]),
      ]),
    )
    .limit(limit * 10)
    .execute();
  let changed = 0;
  for (const { i_webhook_url, ...row } of candidates) {
    if (changed >= limit) break;
    if (!isOverdue(deps, row)) continue;
    const after = await expireIfOverdue(deps, { id: row.integration_id, webhook_url: i_webhook_url }, row);
    if (after.status === 'expired') changed++;
  }
  return changed;
}

export function enrollmentOf(row: SessionRow): WidgetSession['enrollment'] {
  return {
    status: row.enrollment_status,
    source: row.enrollment_source,
    enrolledAt: iso(row.enrolled_at),
    ...(row.enrollment_reason ? { reason: row.enrollment_reason } : {}),
  };
}

export function toWidgetSession(row: SessionRow): WidgetSession {
  return {
    sessionId: row.id,
    status: row.status,
    stopReason: row.stop_reason,
    assessmentTitle: row.assessment_title,
    assessmentType: row.assessment_type,
    userName: row.user_name,
    config: sessionConfig(row),
    enrollment: enrollmentOf(row),
    authScore: row.score_overall,
    scores: storedScores(row),
    violationCounts: severityCounts(row),
    createdAt: iso(row.created_at),
    startedAt: iso(row.started_at),
    endedAt: iso(row.ended_at),
    expiresAt: iso(row.expires_at),
    consentAt: iso(row.consent_at),
  };
}

export function toSessionState(row: SessionRow) {
  return {
    sessionId: row.id,
    status: row.status,
    stopReason: row.stop_reason,
    authScore: row.score_overall,
    scores: storedScores(row),
    startedAt: iso(row.started_at),
    endedAt: iso(row.ended_at),
    expiresAt: iso(row.expires_at),
  };
}

export function toSessionSummary(row: SessionRow): SessionSummary {
  return {
    sessionId: row.id,
    externalUserId: row.external_user_id,
    externalAssessmentId: row.external_assessment_id,
    userName: row.user_name,
    userEmail: row.user_email,
    assessmentTitle: row.assessment_title,
    assessmentType: row.assessment_type,
    status: row.status,
    stopReason: row.stop_reason,
    authScore: row.score_overall,
    violationCounts: severityCounts(row),
    createdAt: iso(row.created_at),
    startedAt: iso(row.started_at),
    endedAt: iso(row.ended_at),
    erasedAt: iso(row.erased_at),
  };
}

export async function sessionDetail(deps: AppDeps, row: SessionRow): Promise<SessionDetail> {
  const [violations, points, documents, messages, recording] = await Promise.all([
    deps.db.selectFrom('violations').selectAll().where('session_id', '=', row.id).orderBy('occurred_at').orderBy('received_at').execute(),
    deps.db.selectFrom('score_points').selectAll().where('session_id', '=', row.id).orderBy('seq').execute(),
    deps.db.selectFrom('documents').select((eb) => eb.fn.countAll<number>().as('n')).where('session_id', '=', row.id).executeTakeFirst(),
    deps.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('session_id', '=', row.id).executeTakeFirst(),
    recordingSummary(deps.db, row.id),
  ]);
  const withImages = await violationsWithImages(deps, row, violations);
  const client = parseJsonColumn<Record<string, number> | null>(row.client_score, null);
  return {
    ...toSessionSummary(row),
    stopNote: row.stop_note,
    config: sessionConfig(row),
    expiresAt: iso(row.expires_at),
    scores: storedScores(row),
    clientAuthScore: client && row.client_score_at !== null ? { ...client, submittedAt: iso(row.client_score_at) } : null,
    violations: violations.map((v) => ({ ...violationFromRow(v), imageUrl: withImages.has(v.id) ? violationImagePath(row.id, v.id) : null })),
    scoreSeries: points.map((p) => ({
      at: iso(p.at),
      overall: p.overall,
      identity: p.identity,
      presence: p.presence,
      behavioral: p.behavioral,
    })),
    enrollment: enrollmentOf(row),
    documentsCount: Number(documents?.n ?? 0),
    messagesCount: Number(messages?.n ?? 0),
    consentAt: iso(row.consent_at),
    recording,
  };
}

export function isTerminal(row: SessionRow): boolean {
  return TERMINAL_STATUSES.has(row.status);
}
