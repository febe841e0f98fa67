import {
  isViolationType,
  PresenceRequest,
  PresenceResponse,
  ReportViolationRequest,
  ReportViolationResponse,
  SessionStateResponse,
  StopSessionRequest,
  SubmitAuthScoreRequest,
  SubmitAuthScoreResponse,
  VIOLATION_CATALOGUE,
  WidgetSession,
} from '@secureaccess/protocol';
import type { Context } from 'hono';
import { requireSessionToken } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError, errors } from '../errors.ts';
import { readJson, readOptionalJson, type ApiRouter, type AppEnv } from '../http.ts';
import { transact } from '../tx.ts';
import { applyPresenceSamples } from './presence.ts';
import { toSessionState, toWidgetSession } from './service.ts';
import { notInProgressError, severityCounts, SessionMutation } from './state.ts';

/** How far ahead of the server's clock a client timestamp may be before it is refused. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** Runs a change on the caller's session inside a transaction, with its current row. */
export async function mutateOwnSession<T>(
  deps: AppDeps,
  c: Context<AppEnv>,
  work: (mutation: SessionMutation) => Promise<T>,
): Promise<T> {
  const session = c.get('session');
  return transact(deps, async (tx) => {
    const mutation = await SessionMutation.load(deps, tx, c.get('integrationRef'), session.id);
    if (!mutation) throw errors.sessionNotFound();
    return work(mutation);
  });
}

/** Widget endpoints (session token) for the session lifecycle, violations, presence and score. */
export function registerWidgetSessionRoutes(api: ApiRouter, deps: AppDeps): void {
  const token = requireSessionToken(deps);
  const limit = deps.config.maxJsonBytes;

  api.route(
    {
      method: 'get',
      path: '/api/widget/session',
      tag: 'Widget',
      summary: 'The session of this token',
      auth: 'sessionToken',
      responses: { 200: { description: 'The session as the widget sees it.', schema: WidgetSession } },
      errors: ['invalid_session_token', 'session_token_expired'],
    },
    token,
    async (c) => c.json(toWidgetSession(c.get('session'))),
  );

  api.route(
    {
      method: 'post',
      path: '/api/widget/session/start',
      tag: 'Widget',
      summary: 'Start the assessment',
      description: 'Requires an enrolled face. Starting a session already in progress answers its state again.',
      auth: 'sessionToken',
      responses: { 200: { description: 'Started.', schema: SessionStateResponse } },
      errors: ['enrollment_required', 'session_ended'],
    },
    token,
    async (c) => {
      const row = await mutateOwnSession(deps, c, async (m) => {
        if (m.row.status === 'in_progress') return m.row;
        if (m.row.status !== 'created') {
          throw errors.invalidState('session_ended', `The session is ${m.row.status} and cannot be started again.`);
        }
        if (m.row.enrollment_status !== 'enrolled') {
          throw errors.invalidState('enrollment_required', 'Enroll the candidate\'s face before starting the assessment.');
        }
        await m.start();
        return m.save();
      });
      return c.json(toSessionState(row));
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/widget/session/complete',
      tag: 'Widget',
      summary: 'Complete the assessment',
      description: 'Only from `in_progress`. Completing an already completed session answers its state again.',
      auth: 'sessionToken',
      responses: { 200: { description: 'Completed.', schema: SessionStateResponse } },
      errors: ['session_not_in_progress'],
    },
    token,
    async (c) => {
      const row = await mutateOwnSession(deps, c, async (m) => {
        if (m.row.status === 'completed') return m.row;
        if (m.row.status !== 'in_progress') throw notInProgressError(m.row);
        await m.end('completed', null);
        return m.save();
      });
      return c.json(toSessionState(row));
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/widget/session/stop',
      tag: 'Widget',
      summary: 'Stop the assessment',
      description: 'Only from `in_progress`; `stopReason` becomes `manual` and the optional `reason` is kept as a note. A repeated stop answers the state again.',
      auth: 'sessionToken',
      body: StopSessionRequest,
      responses: { 200: { description: 'Stopped.', schema: SessionStateResponse } },
      errors: ['session_not_in_progress'],
    },
    token,
    async (c) => {
      const body = await readOptionalJson(c, StopSessionRequest, limit);
      const row = await mutateOwnSession(deps, c, (m) => m.stop('manual', body.reason));
      return c.json(toSessionState(row));
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/widget/session/violation',
      tag: 'Widget',
      summary: 'Report a violation',
      description:
        'Client-raised types only (tab_switch, fullscreen_exit, window_blur, copy_paste, camera_lost); presence and identity violations are decided by the server. Severity comes from the type. A repeated `id` is not counted again (200, `duplicate: true`). Reaching an auto-stop threshold stops the session at once (`autoStopped: true`).',
      auth: 'sessionToken',
      body: ReportViolationRequest,
      responses: {
        201: { description: 'Recorded.', schema: ReportViolationResponse },
        200: { description: 'Already recorded under this id.', schema: ReportViolationResponse },
      },
      errors: ['unknown_violation_type', 'server_decided_violation', 'session_not_in_progress', 'validation_failed'],
    },
    token,
    async (c) => {
      const body = await readJson(c, ReportViolationRequest, limit);
      if (!isViolationType(body.type)) {
        throw new ApiError(400, 'unknown_violation_type', `Unknown violation type "${body.type}".`);
      }
      const type = body.type;
      if (VIOLATION_CATALOGUE[type].raisedBy !== 'client') {
        throw new ApiError(400, 'server_decided_violation', `"${type}" is decided by the server and cannot be reported by the client.`);
      }
      const occurredAt = Date.parse(body.occurredAt);
      if (occurredAt > deps.clock.now() + MAX_CLOCK_SKEW_MS) {
        throw new ApiError(400, 'validation_failed', 'occurredAt is in the future.');
      }
      const result = await mutateOwnSession(deps, c, async (m) => {
        // A retried id answers its first recording in any state. While running, the insert itself finds
        // the duplicate (unique key), which saves a lookup on every new violation.
        if (m.row.status !== 'in_progress') {
          const existing = await m.findViolation(body.id);
          if (existing) return { ...existing, row: m.row, autoStopped: false, scores: m.scores };
          throw notInProgressError(m.row);
        }
        const recorded = await m.recordViolation({
          clientId: body.id,
          type,
          source: 'client',
          occurredAt,
          durationMs: body.durationMs ?? null,
          details: body.details ?? null,
        });
        if (recorded.duplicate) return { ...recorded, row: m.row, autoStopped: false, scores: m.scores };
        const row = await m.save();
        return { ...recorded, row, autoStopped: m.autoStopped, scores: m.scores };
      });
      return c.json(
        {
          violation: result.violation,
          duplicate: result.duplicate,
          autoStopped: result.autoStopped,
          status: result.row.status,
          stopReason: result.row.stop_reason,
          violationCounts: severityCounts(result.row),
          scores: result.scores,
        },
        result.duplicate ? 200 : 201,
      );
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/widget/session/presence',
      tag: 'Widget',
      summary: 'Send presence samples (face counts)',
      description:
        'Batched samples `{at, faces}` from the in-browser detector. They feed the presence score; the server raises face_absent_brief / face_absent_extended / multiple_faces from the durations in the session config. Samples not newer than the last one taken are skipped, so retries are safe.',
      auth: 'sessionToken',
      body: PresenceRequest,
      responses: { 200: { description: 'Taken into account.', schema: PresenceResponse } },
      errors: ['session_not_in_progress', 'validation_failed'],
    },
    token,
    async (c) => {
      const body = await readJson(c, PresenceRequest, limit);
      const horizon = deps.clock.now() + MAX_CLOCK_SKEW_MS;
      const samples = body.samples.map((s) => ({ at: Date.parse(s.at), faces: s.faces }));
      if (samples.some((s) => s.at > horizon)) throw new ApiError(400, 'validation_failed', 'A sample is dated in the future.');
      const result = await mutateOwnSession(deps, c, async (m) => {
        if (m.row.status !== 'in_progress') throw notInProgressError(m.row);
        const applied = await applyPresenceSamples(m, samples);
        const row = await m.save();
        return { ...applied, row, autoStopped: m.autoStopped, scores: m.scores };
      });
      return c.json({
        accepted: result.accepted,
        violations: result.violations,
        autoStopped: result.autoStopped,
        status: result.row.status,
        stopReason: result.row.stop_reason,
        scores: result.scores,
      });
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/widget/session/auth-score',
      tag: 'Widget',
      summary: "Submit the widget's own auth score",
      description: "Stored beside the server's score for comparison; the response carries the server's authoritative score.",
      auth: 'sessionToken',
      body: SubmitAuthScoreRequest,
      responses: { 200: { description: 'Stored.', schema: SubmitAuthScoreResponse } },
      errors: ['validation_failed'],
    },
    token,
    async (c) => {
      const body = await readJson(c, SubmitAuthScoreRequest, limit);
      const row = await mutateOwnSession(deps, c, async (m) => {
        m.row.client_score = JSON.stringify(body);
        m.row.client_score_at = deps.clock.now();
        return m.save();
      });
      return c.json({ authScore: row.score_overall, scores: toSessionState(row).scores, clientAuthScore: body });
    },
  );
}
