import { ASSESSMENT_TYPES, VIOLATION_TYPES, WEBHOOK_EVENT_TYPES } from '@secureaccess/protocol';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/core/app.ts';
import { ApiRouter, type AppEnv, type RouteDoc } from '../src/core/http.ts';
import { registerDocsRoutes } from '../src/core/openapi/routes.ts';
import { SchemaCollector } from '../src/core/openapi/schemas.ts';
import { z } from 'zod';
import { makeTestApp, type TestApp } from './helpers.ts';

type Json = { [key: string]: any };

/** The endpoints listed in the seed contract; `{}` stands for any path parameter name. */
const SEED_ENDPOINTS = [
  'post /api/widget/sessions',
  'get /api/widget/session',
  'post /api/widget/session/start',
  'post /api/widget/session/complete',
  'post /api/widget/session/stop',
  'post /api/widget/session/face-enroll',
  'post /api/widget/session/verify-identity',
  'get /api/widget/session/documents',
  'post /api/widget/session/documents',
  'get /api/widget/session/documents/{}',
  'get /api/widget/session/messages',
  'post /api/widget/session/messages',
  'post /api/widget/session/violation',
  'post /api/widget/session/auth-score',
];

function operations(doc: Json): { key: string; method: string; path: string; op: Json }[] {
  return Object.entries(doc.paths as Json).flatMap(([path, methods]) =>
    Object.entries(methods as Json).map(([method, op]) => ({ key: `${method} ${path}`, method, path, op: op as Json })),
  );
}

/** Resolves a local JSON pointer such as `#/components/schemas/Error`, or undefined. */
function resolvePointer(doc: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !(key in node)) return undefined;
    node = (node as Json)[key];
  }
  return node;
}

function collectRefs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => collectRefs(v, out));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') out.push(child);
      else collectRefs(child, out);
    }
  }
  return out;
}

describe('OpenAPI document and reference page', () => {
  let t: TestApp;
  let app: Hono<AppEnv>;
  let docs: RouteDoc[];
  let doc: Json;

  beforeEach(async () => {
    t = await makeTestApp();
    ({ app, docs } = createApp(t.deps));
    const res = await app.request('/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await res.json()) as Json;
  });
  afterEach(async () => t.close());

  it('documents every route the app registered, and nothing else', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const documented = operations(doc);
    const expected = docs.map((d) => `${d.method} ${d.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}')}`);
    expect(documented.map((o) => o.key).sort()).toEqual([...new Set(expected)].sort());
    for (const d of docs) {
      const op = documented.find((o) => o.key === `${d.method} ${d.path.replace(/:(\w+)/g, '{$1}')}`)!.op;
      expect(op.summary).toBe(d.summary);
      expect(op.tags).toEqual([d.tag]);
    }
    // Every API handler on the Hono app is behind a RouteDoc (the widget's static files are not API).
    const served = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL' && r.path !== '/*' && r.path.startsWith('/api/'))
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
    );
    expect([...served].filter((key) => !documented.some((o) => o.key === key))).toEqual([]);
    const ids = documented.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('covers every endpoint of the seed contract', () => {
    const documented = new Set(operations(doc).map((o) => o.key.replace(/\{[^}]+\}/g, '{}')));
    expect(SEED_ENDPOINTS.filter((endpoint) => !documented.has(endpoint))).toEqual([]);
  });

  it('resolves every $ref inside the document', () => {
    const refs = collectRefs(doc);
    expect(refs.length).toBeGreaterThan(50);
    expect(refs.filter((ref) => resolvePointer(doc, ref) === undefined)).toEqual([]);
    expect(JSON.stringify(doc)).not.toContain('$defs');
    expect(doc.components.schemas.Error.properties.error.required).toEqual(['code', 'message']);
  });

  it('describes the create-session body from the protocol schema (input form)', () => {
    const op = doc.paths['/api/widget/sessions'].post;
    expect(op.security).toEqual([{ apiKey: [] }]);
    expect(op.requestBody.required).toBe(true);
    const body = resolvePointer(doc, op.requestBody.content['application/json'].schema.$ref) as Json;
    expect(body.required).toContain('externalUserId');
    // assessmentType has a default, so a client may leave it out.
    expect(body.required).not.toContain('assessmentType');
    expect(body.properties.assessmentType.enum).toEqual([...ASSESSMENT_TYPES]);
    expect(body.properties.assessmentType.default).toBe('recording');
    expect(resolvePointer(doc, body.properties.config.$ref)).toMatchObject({ additionalProperties: false });
    const created = resolvePointer(doc, op.responses['201'].content['application/json'].schema.$ref) as Json;
    expect(created.required).toEqual(expect.arrayContaining(['sessionId', 'sessionToken', 'expiresAt']));
  });

  it('gives each operation its auth, path parameters, error codes and Error schema', () => {
    for (const { key, path, op } of operations(doc)) {
      const declared = (op.parameters ?? []).filter((p: Json) => p.in === 'path').map((p: Json) => p.name);
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      expect(declared, key).toEqual(inPath);
      expect(op.responses.default.content['application/json'].schema.$ref, key).toBe('#/components/schemas/Error');
    }
    const detail = doc.paths['/api/widget/sessions/{id}'].get;
    expect(detail.parameters).toEqual([{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }]);
    expect(detail['x-error-codes']).toEqual(expect.arrayContaining(['session_not_found', 'invalid_api_key']));
    expect(doc.paths['/api/widget/session/violation'].post.security).toEqual([{ sessionToken: [] }]);
    expect(doc.paths['/api/integrations'].post.security).toEqual([{ admin: [] }, {}]);
    expect(doc.paths['/api/openapi.json'].get.security).toEqual([]);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['admin', 'apiKey', 'sessionToken']);
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'sa_live_…' });
    const limit = doc.paths['/api/widget/sessions'].get.parameters.find((p: Json) => p.name === 'limit');
    expect(limit).toMatchObject({ in: 'query', required: false, schema: { type: 'integer', default: 50 } });
  });

  it('lists the five webhooks with their payloads and Standard Webhooks headers', () => {
    expect(Object.keys(doc.webhooks).sort()).toEqual([...WEBHOOK_EVENT_TYPES].sort());
    for (const [type, item] of Object.entries(doc.webhooks as Json)) {
      const headers = item.post.parameters.filter((p: Json) => p.in === 'header' && p.required).map((p: Json) => p.name);
      expect(headers).toEqual(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
      const payload = resolvePointer(doc, item.post.requestBody.content['application/json'].schema.$ref) as Json;
      expect(payload.properties.type.const).toBe(type);
      expect(payload.required).toEqual(expect.arrayContaining(['id', 'type', 'integrationId', 'sessionId', 'authScore']));
    }
  });

  it('includes routes registered after the docs routes (built on first request)', async () => {
    const bare = new Hono<AppEnv>();
    const api = new ApiRouter(bare, []);
    registerDocsRoutes(api, t.deps);
    api.route(
      { method: 'get', path: '/api/late/:thing', tag: 'Late', summary: 'Registered last', auth: 'apiKey', responses: { 200: { description: 'ok' } } },
      async (c) => c.json({}),
    );
    const late = (await (await bare.request('/api/openapi.json')).json()) as Json;
    expect(late.paths['/api/late/{thing}'].get.summary).toBe('Registered last');
  });

  it('serves /api/docs as self-contained HTML under a strict CSP', async () => {
    const res = await app.request('/api/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'unsafe-inline'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|@import|url\(/i);
    for (const { method, path } of operations(doc)) {
      expect(html, path).toContain(`<span class="method ${method}">${method}</span> <code>${path}</code>`);
    }
    for (const id of ['authentication', 'errors', 'webhooks', 'violations', 'scoring', 'schemas']) expect(html).toContain(`id="${id}"`);
    for (const type of VIOLATION_TYPES) expect(html).toContain(`<code>${type}</code>`);
    for (const type of WEBHOOK_EVENT_TYPES) expect(html).toContain(`<code>${type}</code>`);
    expect(html).toContain('new Webhook(process.env.SECUREACCESS_WEBHOOK_SECRET)');
    expect(html).toContain('webhook.verify(req.body, req.headers)');
    expect(html).toContain('overall = 0.5 × identity + 0.2 × presence + 0.3 × behavioral');
    // Request body fields of create-session: name, type, required.
    expect(html).toMatch(/<td><code>externalUserId<\/code><\/td><td>string<\/td><td>yes<\/td>/);
  });

  it('escapes every piece of text on the reference page', async () => {
    const html = await (await app.request('/api/docs')).text();
    // Real descriptions contain angle brackets and quotes.
    expect(html).toContain('Bearer &lt;admin token&gt;');
    expect(html).not.toContain('<admin token>');

    const bare = new Hono<AppEnv>();
    const api = new ApiRouter(bare, []);
    api.route(
      {
        method: 'post',
        path: '/api/evil',
        tag: '<b>Tag</b>',
        summary: '<script>alert("x")</script>',
        description: 'Uses `<img src=x onerror=alert(1)>` & friends',
        auth: 'none',
        responses: { 200: { description: '"quoted" <i>' } },
        errors: ['<svg/onload=alert(1)>'],
      },
      async (c) => c.json({}),
    );
    registerDocsRoutes(api, t.deps);
    const evil = await (await bare.request('/api/docs')).text();
    expect(evil).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(evil).toContain('<code>&lt;img src=x onerror=alert(1)&gt;</code> &amp; friends');
    expect(evil).toContain('&lt;b&gt;Tag&lt;/b&gt;');
    expect(evil).toContain('&lt;svg/onload=alert(1)&gt;');
    expect(evil).not.toMatch(/<script|<img|<svg|<b>|<i>/);
  });

  it('names the input form of a schema apart when it differs from the output form', () => {
    const Inner = z.object({ mode: z.enum(['a', 'b']).default('a') }).meta({ id: 'OpenApiTestInner' });
    const Outer = z.object({ inner: Inner }).meta({ id: 'OpenApiTestOuter' });
    const schemas = new SchemaCollector();
    const request = schemas.convert(Outer, 'input');
    const response = schemas.convert(Outer, 'output');
    const components = schemas.components();
    expect(request).toEqual({ $ref: '#/components/schemas/OpenApiTestOuterInput' });
    expect(response).toEqual({ $ref: '#/components/schemas/OpenApiTestOuter' });
    expect((components.OpenApiTestOuterInput as Json).properties.inner.$ref).toBe('#/components/schemas/OpenApiTestInnerInput');
    expect((components.OpenApiTestInnerInput as Json).required).toBeUndefined();
    expect((components.OpenApiTestInner as Json).required).toEqual(['mode']);
  });
});
