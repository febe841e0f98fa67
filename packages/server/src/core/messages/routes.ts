import { ListMessagesQuery, ListMessagesResponse, Message, SendMessageRequest } from '@secureaccess/protocol';
import type { Context } from 'hono';
import { requireApiKey, requireSessionToken } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { registerEventRoutes } from '../events/routes.ts';
import { readJson, validate, type ApiRouter, type AppEnv, type SessionRow } from '../http.ts';
import { loadOwnSession } from '../sessions/routes.ts';
import { checkMessageRate, listMessagesAfterId, postMessage, sessionErased, type MessageRole } from './service.ts';

const ORDER =
  'Both sides\' messages in the order they were stored. Page with `after=<id of the last message you have>`; a page shorter than `limit` is the end.';

/** Chat between candidate (session token) and proctor (API key), and the live event streams. */
export function registerMessageRoutes(api: ApiRouter, deps: AppDeps): void {
  const token = requireSessionToken(deps);
  const apiKey = requireApiKey(deps);

  async function list(c: Context<AppEnv>, session: SessionRow) {
    const query = validate(ListMessagesQuery, c.req.query(), 'query');
    const messages = await listMessagesAfterId(deps, session.id, query.after, query.limit);
    return c.json({ messages });
  }

  async function send(c: Context<AppEnv>, session: SessionRow, role: MessageRole) {
    const body = await readJson(c, SendMessageRequest, deps.config.maxJsonBytes);
    checkMessageRate(deps, session.id, role);
    return c.json(await postMessage(deps, session.id, role, body.body), 201);
  }

  async function ownLiveSession(c: Context<AppEnv>): Promise<SessionRow> {
    const row = await loadOwnSession(deps, c.get('integration'), c.req.param('id')!);
    if (row.erased_at !== null) throw sessionErased();
    return row;
  }

  api.route(
    {
      method: 'get',
      path: '/api/widget/session/messages',
      tag: 'Widget',
      summary: 'Messages of this session',
      description: `${ORDER} Readable in every status, also after the session ended.`,
      auth: 'sessionToken',
      query: ListMessagesQuery,
      responses: { 200: { description: 'A page of messages.', schema: ListMessagesResponse } },
      errors: ['invalid_after', 'validation_failed', 'invalid_session_token', 'session_token_expired'],
    },
    token,
    (c) => list(c, c.get('session')),
  );

  api.route(
    {
      method: 'post',
      path: '/api/widget/session/messages',
      tag: 'Widget',
      summary: 'Send a message to the proctor',
      description:
        'Stored with `senderRole: "candidate"` and pushed to both sides\' live streams as a `message` event. Possible before the assessment starts; refused once the session has ended.',
      auth: 'sessionToken',
      body: SendMessageRequest,
      responses: { 201: { description: 'Sent.', schema: Message } },
      errors: ['validation_failed', 'invalid_json', 'unsupported_media_type', 'session_ended', 'rate_limited'],
    },
    token,
    (c) => send(c, c.get('session'), 'candidate'),
  );

  api.route(
    {
      method: 'get',
      path: '/api/widget/sessions/:id/messages',
      tag: 'Sessions',
      summary: 'Messages of a session (proctor)',
      description: `${ORDER} Gone (410) once the session's personal data has been erased.`,
      auth: 'apiKey',
      query: ListMessagesQuery,
      responses: { 200: { description: 'A page of messages.', schema: ListMessagesResponse } },
      errors: ['invalid_after', 'validation_failed', 'session_not_found', 'session_erased'],
    },
    apiKey,
    async (c) => list(c, await ownLiveSession(c)),
  );

  api.route(
    {
      method: 'post',
      path: '/api/widget/sessions/:id/messages',
      tag: 'Sessions',
      summary: 'Send a message to the candidate (proctor)',
      description:
        'Stored with `senderRole: "proctor"` and pushed to both sides\' live streams as a `message` event. Refused once the session has ended.',
      auth: 'apiKey',
      body: SendMessageRequest,
      responses: { 201: { description: 'Sent.', schema: Message } },
      errors: ['validation_failed', 'invalid_json', 'unsupported_media_type', 'session_not_found', 'session_erased', 'session_ended', 'rate_limited'],
    },
    apiKey,
    async (c) => send(c, await ownLiveSession(c), 'proctor'),
  );

  registerEventRoutes(api, deps);
}
