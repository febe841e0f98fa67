import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { Selectable } from 'kysely';
import type { z } from 'zod';
import type { IntegrationsTable, SessionsTable } from './db/schema.ts';
import { ApiError, errors } from './errors.ts';
import type { RequestBodyReader } from './ports.ts';

export type IntegrationRow = Selectable<IntegrationsTable>;
export type SessionRow = Selectable<SessionsTable>;
/** What session-scoped code needs of the integration that owns the session. */
export type IntegrationRef = Pick<IntegrationRow, 'id' | 'webhook_url' | 'name'>;

/** Hono environment: what the runtime passes per request, and what auth middleware leaves on the context. */
export interface AppEnv {
  Bindings: {
    /** The runtime's fast body reader, when it has one (see RequestBodyReader). */
    readBody?: RequestBodyReader;
  };
  Variables: {
    integration: IntegrationRow;
    session: SessionRow;
    integrationRef: IntegrationRef;
  };
}

export type AuthKind = 'none' | 'admin' | 'apiKey' | 'sessionToken';

export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

/** Everything the OpenAPI document says about a route; kept beside the handler that serves it. */
export interface RouteDoc {
  method: 'get' | 'post' | 'patch' | 'delete' | 'put';
  path: string;
  summary: string;
  description?: string;
  tag: string;
  auth: AuthKind;
  body?: z.ZodType;
  /** Other request body types (e.g. multipart) accepted beside JSON. */
  bodyAlternatives?: { contentType: string; description: string }[];
  query?: z.ZodType;
  responses: Record<number, ResponseDoc>;
  /** Error codes the route can answer with, listed in the docs. */
  errors?: string[];
}

/** Registers routes on the Hono app and keeps their docs for /api/openapi.json. */
export class ApiRouter {
  constructor(
    readonly app: Hono<AppEnv>,
    readonly docs: RouteDoc[],
  ) {}

  route(doc: RouteDoc, ...handlers: MiddlewareHandler<AppEnv>[]): void {
    this.docs.push(doc);
    this.app.on(doc.method.toUpperCase(), doc.path, ...(handlers as [MiddlewareHandler<AppEnv>]));
  }
}

function formatIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}

/** Validates a value with a schema, or throws 400 `validation_failed` listing every problem. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what = 'request body'): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = formatIssues(parsed.error);
    const first = issues[0];
    const message = first
      ? `Invalid ${what}: ${first.path ? `${first.path}: ` : ''}${first.message}`
      : `Invalid ${what}.`;
    throw errors.validation(issues, message);
  }
  return parsed.data;
}

/**
 * Reads the body up to `limitBytes` without buffering more than that: the Content-Length is checked
 * first, and a body that streams past the limit is cut off with 413.
 */
export async function readBodyBytes(c: Context, limitBytes: number): Promise<Uint8Array> {
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limitBytes) throw errors.payloadTooLarge(limitBytes);
  if (Number.isFinite(declared)) {
    // Known length within the limit: one read, without pumping a stream chunk by chunk (much cheaper
    // on Node, where the body is not natively a web stream), by the runtime's own reader if it has one.
    const readBody = (c.env as Partial<AppEnv['Bindings']> | undefined)?.readBody;
    const bytes = readBody ? await readBody() : new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength > limitBytes) throw errors.payloadTooLarge(limitBytes);
    return bytes;
  }
  const bytes = await readLimited(c.req.raw.body, limitBytes);
  if (!bytes) throw errors.payloadTooLarge(limitBytes);
  return bytes;
}

/** Reads a stream to its end, or returns null as soon as it exceeds `limitBytes` (and cancels it). */
export async function readLimited(body: ReadableStream<Uint8Array> | null, limitBytes: number): Promise<Uint8Array | null> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Parses a JSON body (415 unless it is JSON, 400 when malformed) and validates it. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, limitBytes: number): Promise<z.output<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new ApiError(415, 'unsupported_media_type', 'Send the body as application/json.');
  }
  const bytes = await readBodyBytes(c, limitBytes);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw errors.invalidJson();
  }
  return validate(schema, value);
}

/** Like readJson, for endpoints whose body is optional: an empty body counts as `{}`. */
export async function readOptionalJson<S extends z.ZodType>(
  c: Context,
  schema: S,
  limitBytes: number,
): Promise<z.output<S>> {
  const length = c.req.header('content-length');
  const type = c.req.header('content-type');
  if ((length === undefined || length === '0') && !type && !c.req.raw.body) return validate(schema, {});
  if (length === '0') return validate(schema, {});
  return readJson(c, schema, limitBytes);
}

/** True when an `If-None-Match` header names this entity tag (weak comparison, as for GET). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === bare);
}

export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(Number(ms)).toISOString();
}

export function parseJsonColumn<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
