import type { AppDeps } from '../deps.ts';
import type { ApiRouter } from '../http.ts';
import { buildOpenApiDocument, type OpenApiDocument } from './document.ts';
import { renderReferencePage } from './html.ts';

/** Nothing on the reference page loads from anywhere: no script, no font, no image; inline CSS only. */
const DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * `GET /api/openapi.json` and `GET /api/docs`. Both are built once per app, on the first request,
 * from `api.docs`: by then every route of the app has been registered, including those registered
 * after this function ran.
 */
export function registerDocsRoutes(api: ApiRouter, deps: AppDeps): void {
  let document: OpenApiDocument | undefined;
  let json: string | undefined;
  let html: string | undefined;
  const getDocument = () => (document ??= buildOpenApiDocument(api.docs, deps.config.version));

  api.route(
    {
      method: 'get',
      path: '/api/openapi.json',
      tag: 'Docs',
      summary: 'OpenAPI 3.1 document',
      description: 'This API as an OpenAPI 3.1 document: every endpoint, the webhooks the server sends and the schemas of both.',
      auth: 'none',
      responses: { 200: { description: 'The document.', contentType: 'application/json' } },
    },
    async (c) => {
      json ??= JSON.stringify(getDocument());
      return c.body(json, 200, {
        'Content-Type': 'application/json; charset=utf-8',
        // A public description of the API: tools on other origins (editors, code generators) may read it.
        'Access-Control-Allow-Origin': '*',
        'Cache-Control': 'no-cache',
      });
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/docs',
      tag: 'Docs',
      summary: 'API reference (HTML)',
      description: 'A readable reference generated from the OpenAPI document, with authentication, errors, webhooks, the violation catalogue and the scoring formula.',
      auth: 'none',
      responses: { 200: { description: 'The reference page.', contentType: 'text/html' } },
    },
    async (c) => {
      html ??= renderReferencePage(getDocument());
      return c.body(html, 200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': DOCS_CSP,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': 'no-cache',
      });
    },
  );
}
