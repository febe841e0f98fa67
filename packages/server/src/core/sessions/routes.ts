import {
  CreateSessionRequest,
  CreateSessionResponse,
  ListSessionsQuery,
  ListSessionsResponse,
  SessionDetail,
  SessionStateResponse,
  StopSessionRequest,
} from '@secureaccess/protocol';
import { requireApiKey } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError, errors } from '../errors.ts';
import { readJson, readOptionalJson, validate, type ApiRouter, type IntegrationRow, type SessionRow } from '../http.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { transact } from '../tx.ts';
import { eraseSession } from './erase.ts';
import { createSession, expireIfOverdue, sessionDetail, toSessionState, toSessionSummary } from './service.ts';
import { SessionMutation } from './state.ts';

const SESSION_ID = /^ses_[A-Za-z0-9]{20}$/;

/** Loads a session of the calling integration; another integration's session is "not found". */
export async function loadOwnSession(deps: AppDeps, integration: IntegrationRow, sessionId: string): Promise<SessionRow> {
  if (!SESSION_ID.test(sessionId)) throw errors.sessionNotFound();
  const row = await deps.db
    .selectFrom('sessions')
    .selectAll()
    .where('id', '=', sessionId)
    .where('integration_id', '=', integration.id)
    .executeTakeFirst();
  if (!row) throw errors.sessionNotFound();
  return expireIfOverdue(deps, integration, row);
}

/** LMS-side session endpoints (API key). */
export function registerSessionRoutes(api: ApiRouter, deps: AppDeps): void {
  const apiKey = requireApiKey(deps);

  api.route(
    {
      method: 'post',
      path: '/api/widget/sessions',
      tag: 'Sessions',
      summary: 'Create a proctoring session',
      description:
        'Called by the LMS backend. Returns the session token to hand to the browser. Send an `Idempotency-Key` header to make retries safe: the same key and body return the first response (200).',
      auth: 'apiKey',
      body: CreateSessionRequest,
      responses: {
        201: { description: 'Created.', schema: CreateSessionResponse },
        200: { description: 'Replay of an earlier request with the same Idempotency-Key.', schema: CreateSessionResponse },
      },
      errors: ['validation_failed', 'idempotency_key_reused', 'invalid_api_key'],
    },
    apiKey,
    async (c) => {
      const body = await readJson(c, CreateSessionRequest, deps.config.maxJsonBytes);
      const key = c.req.header('idempotency-key');
      if (key !== undefined && !/^[\x21-\x7e]{1,255}$/.test(key)) {
        throw new ApiError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1-255 printable ASCII characters.');
      }
      const { status, response } = await createSession(deps, c.get('integration'), body, key);
      return c.json(response, status);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/widget/sessions',
      tag: 'Sessions',
      summary: 'List sessions (newest first, paginated)',
      auth: 'apiKey',
      query: ListSessionsQuery,
      responses: { 200: { description: 'A page of sessions.', schema: ListSessionsResponse } },
      errors: ['validation_failed', 'invalid_cursor'],
    },
    apiKey,
    async (c) => {
      const query = validate(ListSessionsQuery, c.req.query(), 'query');
      const integration = c.get('integration');
      let q = deps.db.selectFrom('sessions').selectAll().where('integration_id', '=', integration.id);
      if (query.externalUserId) q = q.where('external_user_id', '=', query.externalUserId);
      if (query.externalAssessmentId) q = q.where('external_assessment_id', '=', query.externalAssessmentId);
      if (query.status) q = q.where('status', '=', query.status);
      if (query.cursor) {
        const [createdAt, id] = decodeCursor(query.cursor, ['number', 'string']);
        q = q.where((eb) =>
          eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]),
        );
      }
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit + 1).execute();
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      return c.json({
        sessions: page.map(toSessionSummary),
        nextCursor: rows.length > query.limit && last ? encodeCursor([Number(last.created_at), last.id]) : null,
      });
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/widget/sessions/:id',
      tag: 'Sessions',
      summary: 'Results of one session',
      description: 'Status, stop reason, server auth score and components, the last client-submitted score, violations, score time series, enrollment state and counts.',
      auth: 'apiKey',
      responses: { 200: { description: 'The session.', schema: SessionDetail } },
      errors: ['session_not_found'],
    },
    apiKey,
    async (c) => {
      const row = await loadOwnSession(deps, c.get('integration'), c.req.param('id')!);
      return c.json(await sessionDetail(deps, row));
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/widget/sessions/:id/stop',
      tag: 'Sessions',
      summary: 'Stop a running session (proctor)',
      description: 'Stops the session with `stopReason: "proctor"`. Stopping an already stopped session answers its state again.',
      auth: 'apiKey',
      body: StopSessionRequest,
      responses: { 200: { description: 'Stopped.', schema: SessionStateResponse } },
      errors: ['session_not_found', 'session_not_in_progress'],
    },
    apiKey,
    async (c) => {
      const integration = c.get('integration');
      const body = await readOptionalJson(c, StopSessionRequest, deps.config.maxJsonBytes);
      const row = await loadOwnSession(deps, integration, c.req.param('id')!);
      const updated = await transact(deps, async (tx) => {
        const mutation = await SessionMutation.load(deps, tx, integration, row.id);
        if (!mutation) throw errors.sessionNotFound();
        return mutation.stop('proctor', body.reason);
      });
      return c.json(toSessionState(updated));
    },
  );

  api.route(
    {
      method: 'delete',
      path: '/api/widget/sessions/:id',
      tag: 'Sessions',
      summary: "Erase a session's personal data",
      description:
        'Deletes images, face templates, documents, recordings, messages and identifying fields. An anonymous audit row (status, times, scores, violation types) is kept. A running session is stopped first.',
      auth: 'apiKey',
      responses: { 200: { description: 'Erased; the anonymous audit row.', schema: SessionDetail } },
      errors: ['session_not_found'],
    },
    apiKey,
    async (c) => {
      const integration = c.get('integration');
      const row = await loadOwnSession(deps, integration, c.req.param('id')!);
      const erased = await eraseSession(deps, integration, row.id);
      if (!erased) throw errors.sessionNotFound();
      return c.json(await sessionDetail(deps, erased));
    },
  );
}
