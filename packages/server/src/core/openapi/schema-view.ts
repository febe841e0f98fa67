import { anchorId, esc, prose, table } from './html-text.ts';
import { COMPONENTS_PREFIX, type JsonSchema } from './schemas.ts';

/** How deep inline (unnamed) objects are unfolded into dotted field names. */
const MAX_DEPTH = 3;

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refName(schema: JsonSchema): string | undefined {
  return typeof schema.$ref === 'string' && schema.$ref.startsWith(COMPONENTS_PREFIX)
    ? schema.$ref.slice(COMPONENTS_PREFIX.length)
    : undefined;
}

export function schemaAnchor(name: string): string {
  return anchorId('schema', name);
}

/** Renders JSON Schemas of one document as type labels and field tables (HTML, all text escaped). */
export class SchemaView {
  constructor(private readonly components: Record<string, JsonSchema>) {}

  /** The schema a `$ref` points at (or the schema itself). */
  resolve(schema: JsonSchema): JsonSchema {
    const name = refName(schema);
    return name ? (this.components[name] ?? {}) : schema;
  }

  /** A short type: `string (date-time)`, `"a" | "b"`, `array of Violation`, a link for named schemas. */
  typeLabel(schema: JsonSchema): string {
    const name = refName(schema);
    if (name) return `<a href="#${schemaAnchor(name)}">${esc(name)}</a>`;
    if (Array.isArray(schema.enum)) return schema.enum.map((v) => `<code>${esc(JSON.stringify(v))}</code>`).join(' | ');
    if ('const' in schema) return `<code>${esc(JSON.stringify(schema.const))}</code>`;
    const union = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
    if (Array.isArray(union)) return union.map((s) => this.typeLabel(s)).join(' or ');
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : [];
    if (types.length === 0) return 'any';
    return types
      .map((type) => {
        if (type === 'array' && isObject(schema.items)) return `array of ${this.typeLabel(schema.items)}`;
        if (type === 'object' && !schema.properties && schema.additionalProperties !== undefined) return 'object (map)';
        if (type === 'string' && typeof schema.format === 'string') return `string (${esc(schema.format)})`;
        return esc(type);
      })
      .join(' | ');
  }

  /** Constraints worth a reader's attention, as escaped text. */
  private constraints(schema: JsonSchema): string {
    const parts: string[] = [];
    const s = schema;
    if (s.default !== undefined) parts.push(`default <code>${esc(JSON.stringify(s.default))}</code>`);
    if (s.minLength !== undefined || s.maxLength !== undefined) parts.push(`length ${s.minLength ?? 0}–${s.maxLength ?? '∞'}`);
    if (s.minimum !== undefined || s.maximum !== undefined) parts.push(`range ${s.minimum ?? '−∞'}–${s.maximum ?? '∞'}`);
    if (s.minItems !== undefined || s.maxItems !== undefined) parts.push(`${s.minItems ?? 0}–${s.maxItems ?? '∞'} items`);
    if (typeof s.pattern === 'string' && s.format === undefined) parts.push(`pattern <code>${esc(s.pattern)}</code>`);
    return parts.join('; ');
  }

  private rows(schema: JsonSchema, prefix: string, depth: number, out: string[][]): void {
    const resolved = this.resolve(schema);
    const properties = isObject(resolved.properties) ? (resolved.properties as Record<string, JsonSchema>) : {};
    const required = new Set(Array.isArray(resolved.required) ? (resolved.required as string[]) : []);
    for (const [name, property] of Object.entries(properties)) {
      const description = typeof property.description === 'string' ? prose(property.description) : '';
      const constraints = this.constraints(property);
      out.push([
        `<code>${esc(prefix + name)}</code>`,
        this.typeLabel(property),
        required.has(name) ? 'yes' : 'no',
        [description, constraints].filter(Boolean).join(description && constraints ? '<br>' : ''),
      ]);
      if (depth + 1 >= MAX_DEPTH || refName(property)) continue;
      if (isObject(property.properties)) this.rows(property, `${prefix}${name}.`, depth + 1, out);
      else if (isObject(property.items) && !refName(property.items) && isObject(property.items.properties)) {
        this.rows(property.items, `${prefix}${name}[].`, depth + 1, out);
      }
    }
  }

  /** A table of the fields of an object schema (nested inline objects as `a.b`), or '' if none. */
  fieldsTable(schema: JsonSchema): string {
    const rows: string[][] = [];
    this.rows(schema, '', 0, rows);
    return table(['Field', 'Type', 'Required', 'Description'], rows);
  }

  /** One named schema: description, fields, or its shape when it is not a plain object. */
  component(name: string): string {
    const schema = this.components[name] ?? {};
    const description = typeof schema.description === 'string' ? `<p>${prose(schema.description)}</p>` : '';
    const fields = this.fieldsTable(schema);
    const shape = fields || `<p>Type: ${this.typeLabel(schema)}</p>`;
    return `<section class="schema" id="${schemaAnchor(name)}"><h3>${esc(name)}</h3>${description}${shape}</section>`;
  }
}
