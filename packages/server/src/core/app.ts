import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps } from './deps.ts';
import { ApiError } from './errors.ts';
import { ApiRouter, type AppEnv, type RouteDoc } from './http.ts';
import { registerIntegrationRoutes } from './integrations/routes.ts';
import { registerSessionRoutes } from './sessions/routes.ts';
import { registerWidgetSessionRoutes } from './sessions/widget-routes.ts';
import { registerWebhookRoutes } from './webhooks/routes.ts';
import { registerMessageRoutes } from './messages/routes.ts';
import { registerDocumentRoutes } from './documents/routes.ts';
import { registerDocsRoutes } from './openapi/routes.ts';
import { registerFaceRoutes } from './face/routes.ts';
import { registerRecordingRoutes } from './recording/routes.ts';
import { registerConsentRoutes } from './sessions/consent.ts';
import { registerStaticRoutes } from './static/routes.ts';
import { registerConsoleRoutes } from './console/routes.ts';
import { registerConsolePages } from './console/pages.ts';
import { registerFaceImageRoutes } from './face/images.ts';

/** Paths the widget calls from the candidate's browser, on the LMS's origin. */
const WIDGET_PATH = /^\/api\/widget\/session(\/|$)/;
const CORS_HEADERS = 'Authorization, Content-Type, Idempotency-Key, Last-Event-ID';
const CORS_METHODS = 'GET, POST, OPTIONS';

const HealthResponse = z
  .object({
    status: z.literal('ok'),
    version: z.string(),
    faceEngine: z.enum(['ready', 'loading', 'unavailable']),
  })
  .meta({ id: 'HealthResponse' });

export interface App {
  app: Hono<AppEnv>;
  docs: RouteDoc[];
}

/**
 * Builds the HTTP API on Web-standard Request/Response. Runtimes (Node, Workers) construct `deps`
 * from their adapters and hand `app.fetch` to their server.
 */
export function createApp(deps: AppDeps): App {
  const app = new Hono<AppEnv>();
  const docs: RouteDoc[] = [];
  const api = new ApiRouter(app, docs);

  // CORS for the widget: any origin may call; a session's integration can restrict origins, which the
  // session-token middleware enforces once it knows the integration (403 `origin_not_allowed`).
  // Every widget response, errors included, carries the headers so the browser can read it.
  app.use('*', async (c, next) => {
    if (!WIDGET_PATH.test(c.req.path)) return next();
    const origin = c.req.header('origin');
    if (c.req.method === 'OPTIONS') {
      return new Response(null, {
        status: 204,
        headers: {
          'Access-Control-Allow-Origin': origin ?? '*',
          'Access-Control-Allow-Methods': CORS_METHODS,
          'Access-Control-Allow-Headers': CORS_HEADERS,
          'Access-Control-Max-Age': '600',
          Vary: 'Origin',
        },
      });
    }
    await next();
    c.res.headers.set('Access-Control-Allow-Origin', origin ?? '*');
    c.res.headers.append('Vary', 'Origin');
  });

  api.route(
    {
      method: 'get',
      path: '/api/health',
      tag: 'Operations',
      summary: 'Health and readiness',
      description: '`status` is `ok` while the server answers; `faceEngine` is `ready`, `loading` or `unavailable`.',
      auth: 'none',
      responses: { 200: { description: 'The server is up.', schema: HealthResponse } },
    },
    async (c) =>
      c.json({
        status: 'ok' as const,
        version: deps.config.version,
        faceEngine: deps.faceEngine ? (deps.faceEngine.ready() ? 'ready' : 'loading') : 'unavailable',
      }),
  );

  registerIntegrationRoutes(api, deps);
  registerSessionRoutes(api, deps);
  registerWidgetSessionRoutes(api, deps);
  registerFaceRoutes(api, deps);
  registerFaceImageRoutes(api, deps);
  registerMessageRoutes(api, deps);
  registerDocumentRoutes(api, deps);
  registerConsentRoutes(api, deps);
  registerRecordingRoutes(api, deps);
  registerWebhookRoutes(api, deps);
  registerConsoleRoutes(api, deps);
  // Last: the OpenAPI document describes every route registered above.
  registerDocsRoutes(api, deps);
  // The widget's script and assets: not API routes, so not in the OpenAPI document.
  registerStaticRoutes(app, deps);
  // The proctor console's pages and built files: likewise out of the OpenAPI document.
  registerConsolePages(app, deps);

  app.notFound((c) => c.json({ error: { code: 'not_found', message: `No route for ${c.req.method} ${c.req.path}.` } }, 404));

  app.onError((error, c) => {
    if (error instanceof ApiError) {
      const body = { error: { code: error.code, message: error.message, ...(error.details !== undefined ? { details: error.details } : {}) } };
      return c.json(body, error.status, error.headers);
    }
    deps.logger.error('unhandled error', { method: c.req.method, path: c.req.path, error: error instanceof Error ? error.stack ?? error.message : String(error) });
    return c.json({ error: { code: 'internal_error', message: 'Something went wrong on our side; it has been logged.' } }, 500);
  });

  return { app, docs };
}
