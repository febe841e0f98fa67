import { ErrorBody } from '@secureaccess/protocol';
import type { AuthKind, RouteDoc } from '../http.ts';
import { SchemaCollector, type JsonSchema } from './schemas.ts';
import { buildWebhooks } from './webhooks.ts';

/** The parts of an OpenAPI 3.1 document this server produces and the reference page reads. */
export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

export interface OpenApiMediaType {
  schema?: JsonSchema;
}

export interface OpenApiResponse {
  description: string;
  content?: Record<string, OpenApiMediaType>;
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; description?: string; content: Record<string, OpenApiMediaType> };
  responses: Record<string, OpenApiResponse>;
  /** Every `error.code` the operation can answer with (a vendor extension the reference page lists). */
  'x-error-codes': string[];
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  webhooks: Record<string, { post: OpenApiOperation }>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; bearerFormat?: string; description: string }>;
  };
}

export const SECURITY_SCHEMES: OpenApiDocument['components']['securitySchemes'] = {
  apiKey: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'sa_live_…',
    description:
      'The integration API key, `Authorization: Bearer sa_live_…`. Server to server only: never send it to a browser. Shown once when the integration is created or the key rotated.',
  },
  sessionToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'sa_sess_…',
    description:
      "The browser's credential, `Authorization: Bearer sa_sess_…`, returned when the LMS creates a session. It unlocks exactly one session and expires with it.",
  },
  admin: {
    type: 'http',
    scheme: 'bearer',
    description:
      'The operator\'s admin token. Needed only when the server runs with `SECUREACCESS_ADMIN_TOKEN` set; otherwise the endpoint is open and rate-limited.',
  },
};

const TAG_DESCRIPTIONS: Record<string, string> = {
  Integrations: 'An integration is one LMS: its API key, webhook URL, allowed origins and defaults.',
  Sessions: 'Called by the LMS backend with the API key: create proctoring sessions and read their results.',
  Widget: "Called by the widget in the candidate's browser with the session token.",
  Webhooks: 'Delivery log and manual redelivery of signed webhook events.',
  Console:
    'Sign-in of the proctor console (served at /console): the API key is exchanged for an HttpOnly cookie that the API-key endpoints accept in its place.',
  Docs: 'This reference, as HTML and as an OpenAPI document.',
};

/** Error codes raised by the shared middleware rather than by the route itself. */
function impliedErrorCodes(doc: RouteDoc): string[] {
  const byAuth: Record<AuthKind, string[]> = {
    none: [],
    admin: [],
    apiKey: ['unauthorized', 'invalid_api_key', 'console_session_required', 'csrf_check_failed'],
    sessionToken: ['unauthorized', 'invalid_session_token', 'session_token_expired', 'origin_not_allowed'],
  };
  const codes = [...byAuth[doc.auth]];
  if (doc.body) codes.push('validation_failed', 'invalid_json', 'unsupported_media_type', 'payload_too_large');
  if (doc.query) codes.push('validation_failed');
  return codes;
}

function security(auth: AuthKind): Record<string, string[]>[] {
  if (auth === 'none') return [];
  // Optional: `{}` means "or no credential at all" (no admin token configured).
  if (auth === 'admin') return [{ admin: [] }, {}];
  return [{ [auth]: [] }];
}

const PATH_PARAM = /:([A-Za-z_][A-Za-z0-9_]*)/g;

function operationId(doc: RouteDoc, taken: Set<string>): string {
  const words = doc.path
    .split('/')
    .filter((part) => part && part !== 'api')
    .map((part) => (part.startsWith(':') ? `by-${part.slice(1)}` : part))
    .flatMap((part) => part.split(/[-_.]/))
    .filter(Boolean);
  const base = [doc.method, ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}${n}`;
  taken.add(id);
  return id;
}

function buildOperation(doc: RouteDoc, schemas: SchemaCollector, taken: Set<string>, errorSchema: JsonSchema): OpenApiOperation {
  const parameters: OpenApiParameter[] = [...doc.path.matchAll(PATH_PARAM)].map((m) => ({
    name: m[1]!,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (doc.query) {
    const query = schemas.convert(doc.query, 'input', { inlineRoot: true });
    const properties = (query.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((query.required ?? []) as string[]);
    for (const [name, schema] of Object.entries(properties)) {
      const { description, ...rest } = schema;
      parameters.push({
        name,
        in: 'query',
        required: required.has(name),
        ...(typeof description === 'string' ? { description } : {}),
        schema: rest,
      });
    }
  }

  let requestBody: OpenApiOperation['requestBody'];
  if (doc.body) {
    const content: Record<string, OpenApiMediaType> = { 'application/json': { schema: schemas.convert(doc.body, 'input') } };
    for (const alternative of doc.bodyAlternatives ?? []) content[alternative.contentType] = {};
    const alternatives = (doc.bodyAlternatives ?? []).map((a) => `\`${a.contentType}\`: ${a.description}`);
    requestBody = {
      // A body that may be left out (every field optional) is not required.
      required: !doc.body.safeParse({}).success,
      ...(alternatives.length ? { description: `Also accepted: ${alternatives.join(' ')}` } : {}),
      content,
    };
  } else if (doc.bodyAlternatives?.length) {
    // A raw body (e.g. video bytes) with no JSON form.
    requestBody = {
      required: true,
      description: doc.bodyAlternatives.map((a) => `\`${a.contentType}\`: ${a.description}`).join(' '),
      content: Object.fromEntries(doc.bodyAlternatives.map((a) => [a.contentType, {}])),
    };
  }

  const errorCodes = [...new Set([...(doc.errors ?? []), ...impliedErrorCodes(doc)])];
  const operation: OpenApiOperation = {
    operationId: operationId(doc, taken),
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    security: security(doc.auth),
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: {},
    'x-error-codes': errorCodes,
  };
  const statuses = Object.keys(doc.responses).map(Number).sort((a, b) => a - b);
  for (const status of statuses) {
    const response = doc.responses[status]!;
    const type = response.contentType ?? 'application/json';
    const schema = response.schema ? schemas.convert(response.schema, 'output') : status >= 400 ? errorSchema : undefined;
    operation.responses[String(status)] = {
      description: response.description,
      ...(schema || response.contentType ? { content: { [type]: schema ? { schema } : {} } } : {}),
    };
  }
  // Every failure, 4xx or 5xx, has the same body; the codes this route can answer with are listed.
  const codes = errorCodes.length ? ` Codes: ${errorCodes.map((c) => `\`${c}\``).join(', ')}, or \`internal_error\` (500).` : '';
  operation.responses.default = {
    description: `Error: \`{"error": {"code", "message"}}\`.${codes}`,
    content: { 'application/json': { schema: errorSchema } },
  };
  return operation;
}

/**
 * The OpenAPI 3.1 document of every documented route, the webhooks the server sends, and the
 * schemas both use.
 */
export function buildOpenApiDocument(docs: readonly RouteDoc[], version: string): OpenApiDocument {
  const schemas = new SchemaCollector();
  const taken = new Set<string>();
  const paths: OpenApiDocument['paths'] = {};
  const tags: string[] = [];
  const errorSchema = schemas.convert(ErrorBody, 'output');
  for (const doc of docs) {
    const path = doc.path.replace(PATH_PARAM, '{$1}');
    (paths[path] ??= {})[doc.method] = buildOperation(doc, schemas, taken, errorSchema);
    if (!tags.includes(doc.tag)) tags.push(doc.tag);
  }
  const webhooks = buildWebhooks(schemas);
  return {
    openapi: '3.1.0',
    info: {
      title: 'SecureAccess API',
      version,
      description:
        'Proctoring and identity verification for online assessments. The LMS backend creates sessions with its API key; the widget in the browser drives each session with its session token; results arrive by signed webhooks and by API. Errors are always `{"error": {"code", "message"}}`.',
    },
    servers: [{ url: '/' }],
    tags: tags.map((name) => ({ name, ...(TAG_DESCRIPTIONS[name] ? { description: TAG_DESCRIPTIONS[name] } : {}) })),
    paths,
    webhooks,
    components: { schemas: schemas.components(), securitySchemes: SECURITY_SCHEMES },
  };
}
