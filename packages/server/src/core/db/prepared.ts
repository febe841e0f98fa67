import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database } from './schema.ts';

type Params = Record<string, unknown>;

/** A compiled statement and, for each of its parameters, the call parameter it takes or a constant. */
interface Compiled<R> {
  query: CompiledQuery<R>;
  names: (string | null)[];
  constants: unknown[];
}

/** Distinct parameter shapes compiled per database; past it a query is compiled per call (still correct). */
const MAX_SHAPES = 64;
const PLACEHOLDER = '\u0000prepared:';

/**
 * A hot statement built with Kysely once and re-executed with new parameter values.
 *
 * Kysely builds and compiles every query anew, which costs more than running a small statement on
 * SQLite. Here `build` runs once per parameter shape (the names of the defined parameters) with
 * placeholder values; the compiled SQL is kept and each call only substitutes its values. The SQL is
 * still Kysely's, compiled by the dialect of the database given, so every dialect keeps working.
 *
 * `build` must use each parameter as a value only (in `where`, `values`, `set`…), never branch on it:
 * it sees placeholders, not the call's values. Misuse is detected when compiling and throws.
 *
 * @example
 * const sessionById = new PreparedQuery((db, p: { id: string }) => db.selectFrom('sessions').selectAll().where('id', '=', p.id));
 * const row = await sessionById.first(deps.db, { id }, tx.db);
 */
export class PreparedQuery<P extends Params, R> {
  private readonly compiled = new WeakMap<Kysely<Database>, Map<string, Compiled<R>>>();

  constructor(private readonly build: (db: Kysely<Database>, params: P) => Compilable<R>) {}

  /** Runs the statement on `runner` (a transaction of `db`, or `db` itself), compiled for `db`'s dialect. */
  async run(db: Kysely<Database>, params: P, runner: Kysely<Database> = db): Promise<QueryResult<R>> {
    const compiled = this.compiledFor(db, params);
    const parameters = compiled.names.map((name, i) => (name === null ? compiled.constants[i] : params[name]));
    return runner.executeQuery<R>({ ...compiled.query, parameters });
  }

  /** The first row of the result, if any. */
  async first(db: Kysely<Database>, params: P, runner: Kysely<Database> = db): Promise<R | undefined> {
    return (await this.run(db, params, runner)).rows[0];
  }

  private compiledFor(db: Kysely<Database>, params: P): Compiled<R> {
    // Kysely leaves undefined values out of a statement: so do the shape and the placeholders.
    const names = Object.keys(params).filter((name) => params[name] !== undefined);
    const shape = names.join(',');
    let byShape = this.compiled.get(db);
    if (!byShape) {
      byShape = new Map();
      this.compiled.set(db, byShape);
    }
    let compiled = byShape.get(shape);
    if (!compiled) {
      compiled = this.compile(db, names);
      if (byShape.size < MAX_SHAPES) byShape.set(shape, compiled);
    }
    return compiled;
  }

  private compile(db: Kysely<Database>, names: string[]): Compiled<R> {
    const placeholders = Object.fromEntries(names.map((name) => [name, PLACEHOLDER + name])) as P;
    const query = this.build(db, placeholders).compile();
    const unused = new Set(names);
    const slots = query.parameters.map((value) => {
      if (typeof value !== 'string' || !value.includes(PLACEHOLDER)) return null;
      const name = value.slice(PLACEHOLDER.length);
      if (!value.startsWith(PLACEHOLDER) || !names.includes(name)) {
        throw new Error(`PreparedQuery: a parameter was transformed instead of passed as a value (${JSON.stringify(value)})`);
      }
      unused.delete(name);
      return name;
    });
    if (unused.size > 0) throw new Error(`PreparedQuery: parameters not used as values: ${[...unused].join(', ')}`);
    return { query, names: slots, constants: query.parameters.map((value, i) => (slots[i] === null ? value : undefined)) };
  }
}
