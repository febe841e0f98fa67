import { z } from 'zod';

/** A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) as plain data. */
export type JsonSchema = { [key: string]: unknown };
export type SchemaIo = 'input' | 'output';

const DEFS_PREFIX = '#/$defs/';
export const COMPONENTS_PREFIX = '#/components/schemas/';
const SAFE_INTEGER_BOUNDS = new Set([Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]);

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Visits every object inside a JSON value, depth first. */
function walk(value: unknown, visit: (node: JsonSchema) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit);
  } else if (isObject(value)) {
    visit(value);
    for (const child of Object.values(value)) walk(child, visit);
  }
}

/** Drops what only adds noise to a reader: `$schema`, and the ±2^53 bounds zod puts on every int. */
function tidy(node: JsonSchema): void {
  delete node.$schema;
  if (node.type === 'integer') {
    if (SAFE_INTEGER_BOUNDS.has(node.minimum as number)) delete node.minimum;
    if (SAFE_INTEGER_BOUNDS.has(node.maximum as number)) delete node.maximum;
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Converts zod schemas to JSON Schema for one OpenAPI document. Schemas registered with
 * `.meta({id})` become `components.schemas` entries referenced by `$ref`; everything else is inlined.
 * Requests are converted as zod *input* (defaults make a field optional) and responses as *output*;
 * when a schema's two forms differ, the input form is named `<id>Input`.
 *
 * Call `convert` for every schema first, then `components()` once: it names the components and
 * points every `$ref` handed out so far at them.
 *
 * @example
 * const schemas = new SchemaCollector();
 * const body = schemas.convert(CreateSessionRequest, 'input'); // {$ref: '#/components/schemas/CreateSessionRequest'}
 * const components = schemas.components();
 */
export class SchemaCollector {
  private readonly defs: Record<SchemaIo, Map<string, JsonSchema>> = { input: new Map(), output: new Map() };
  /** Every JSON value handed out, with the form its refs point into. */
  private readonly issued: { io: SchemaIo; value: JsonSchema }[] = [];
  private finished: Record<string, JsonSchema> | undefined;

  /**
   * The JSON Schema of `schema`: a `$ref` when it carries an id (or when `name` is given for an
   * anonymous one), else inline. `inlineRoot` always returns the body itself, e.g. to list the
   * properties of a query schema as parameters.
   */
  convert(schema: z.ZodType, io: SchemaIo, options: { name?: string; inlineRoot?: boolean } = {}): JsonSchema {
    if (this.finished) throw new Error('SchemaCollector: convert() after components()');
    const json = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      // A schema with no JSON Schema form (a transform, a custom type) is documented as "any value"
      // rather than breaking the whole document.
      unrepresentable: 'any',
    }) as JsonSchema;
    walk(json, tidy);
    const { $defs, ...root } = json as JsonSchema & { $defs?: Record<string, JsonSchema> };
    for (const [id, def] of Object.entries($defs ?? {})) this.addDef(io, id, def);

    let result: JsonSchema = root;
    const rootRef = typeof root.$ref === 'string' && root.$ref.startsWith(DEFS_PREFIX) ? root.$ref : undefined;
    if (rootRef && options.inlineRoot) {
      result = structuredClone(this.defs[io].get(rootRef.slice(DEFS_PREFIX.length)) ?? {});
    } else if (!rootRef && options.name && !options.inlineRoot) {
      this.addDef(io, options.name, root);
      result = { $ref: DEFS_PREFIX + options.name };
    }
    this.issued.push({ io, value: result });
    return result;
  }

  /** The `components.schemas` object; also rewrites every `$ref` handed out to point into it. */
  components(): Record<string, JsonSchema> {
    if (this.finished) return this.finished;
    const names: Record<SchemaIo, Map<string, string>> = { input: new Map(), output: new Map() };
    const out: Record<string, JsonSchema> = {};
    for (const [id, def] of this.defs.output) {
      names.output.set(id, id);
      out[id] = def;
    }
    for (const [id, def] of this.defs.input) {
      const output = this.defs.output.get(id);
      const name = output === undefined || sameJson(output, def) ? id : `${id}Input`;
      names.input.set(id, name);
      out[name] = def;
    }
    const rewrite = (io: SchemaIo, value: JsonSchema) =>
      walk(value, (node) => {
        if (typeof node.$ref === 'string' && node.$ref.startsWith(DEFS_PREFIX)) {
          const id = node.$ref.slice(DEFS_PREFIX.length);
          node.$ref = COMPONENTS_PREFIX + (names[io].get(id) ?? id);
        }
      });
    for (const io of ['input', 'output'] as const) {
      for (const def of this.defs[io].values()) rewrite(io, def);
    }
    for (const { io, value } of this.issued) rewrite(io, value);
    this.finished = Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
    return this.finished;
  }

  private addDef(io: SchemaIo, id: string, def: JsonSchema): void {
    const known = this.defs[io].get(id);
    if (known === undefined) this.defs[io].set(id, def);
    else if (!sameJson(known, def)) {
      throw new Error(`Two different schemas share the id "${id}"; give one of them another .meta({id}).`);
    }
  }
}
