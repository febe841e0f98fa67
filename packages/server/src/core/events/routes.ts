import { requireApiKey, requireSessionToken } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { errors } from '../errors.ts';
import type { ApiRouter } from '../http.ts';
import { sessionErased } from '../messages/service.ts';
import { loadOwnSession } from '../sessions/routes.ts';
import { toSessionState, toWidgetSession } from '../sessions/service.ts';
import { openLiveStream } from './live-stream.ts';

const STREAM_FORMAT =
  'A `text/event-stream`. Each event has `id:`, `event:` and one `data:` line of JSON. The first event is `snapshot` ' +
  '(`{session, lastMessageId}`); then, as changes are committed: `status` (SessionStatusEvent), `score` (AuthScores), ' +
  '`violation` (Violation), `message` (Message) and `document` (Document). A comment line (`: heartbeat`) is sent every ' +
  '15 s. The `id` is the last message delivered (`0` before any), followed by `.n` on events that are not messages: send ' +
  'it back as `Last-Event-ID` when reconnecting and the messages missed in between are replayed first (an id that does ' +
  'not name a message of this session is ignored). Other missed changes are in the new `snapshot`. Delivery is best ' +
  'effort; the REST endpoints are the record.';

/** Live events (Server-Sent Events) for the widget and the proctor console. */
export function registerEventRoutes(api: ApiRouter, deps: AppDeps): void {
  api.route(
    {
      method: 'get',
      path: '/api/widget/session/events',
      tag: 'Widget',
      summary: 'Live events of this session (Server-Sent Events)',
      description:
        `${STREAM_FORMAT}\n\nThe browser's \`EventSource\` cannot send an \`Authorization\` header, so the widget reads this ` +
        'stream with `fetch()` and a streaming body reader (sending `Last-Event-ID` itself when it reconnects). The snapshot\'s ' +
        '`session` is the WidgetSession. The stream closes when the session token expires.',
      auth: 'sessionToken',
      responses: { 200: { description: 'The event stream.', contentType: 'text/event-stream' } },
      errors: ['invalid_session_token', 'session_token_expired', 'origin_not_allowed'],
    },
    requireSessionToken(deps),
    async (c) => {
      const session = c.get('session');
      const readSession = () => deps.db.selectFrom('sessions').selectAll().where('id', '=', session.id).executeTakeFirst();
      return openLiveStream(c, deps, {
        sessionId: session.id,
        integrationId: session.integration_id,
        async snapshot() {
          const row = await readSession();
          if (!row || row.erased_at !== null) throw errors.invalidSessionToken();
          return toWidgetSession(row);
        },
        async stillAllowed() {
          const row = await readSession();
          return !!row && row.erased_at === null && deps.clock.now() < Number(row.expires_at);
        },
      });
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/widget/sessions/:id/events',
      tag: 'Sessions',
      summary: 'Live events of a session, for the proctor console (Server-Sent Events)',
      description: `${STREAM_FORMAT}\n\nThe snapshot's \`session\` is the SessionStateResponse. The stream closes if the API key is rotated or the session erased.`,
      auth: 'apiKey',
      responses: { 200: { description: 'The event stream.', contentType: 'text/event-stream' } },
      errors: ['invalid_api_key', 'session_not_found', 'session_erased'],
    },
    requireApiKey(deps),
    async (c) => {
      const integration = c.get('integration');
      const row = await loadOwnSession(deps, integration, c.req.param('id')!);
      if (row.erased_at !== null) throw sessionErased();
      const readState = () =>
        deps.db
          .selectFrom('sessions')
          .innerJoin('integrations', 'integrations.id', 'sessions.integration_id')
          .selectAll('sessions')
          .select('integrations.api_key_hash as i_api_key_hash')
          .where('sessions.id', '=', row.id)
          .where('sessions.integration_id', '=', integration.id)
          .executeTakeFirst();
      return openLiveStream(c, deps, {
        sessionId: row.id,
        integrationId: integration.id,
        async snapshot() {
          const found = await readState();
          if (!found) throw errors.sessionNotFound();
          if (found.erased_at !== null) throw sessionErased();
          const { i_api_key_hash: _hash, ...current } = found;
          return toSessionState(current);
        },
        async stillAllowed() {
          const found = await readState();
          return !!found && found.erased_at === null && found.i_api_key_hash === integration.api_key_hash;
        },
      });
    },
  );
}
