import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type SqliteDatabase } from 'kysely';
import { migrationProvider } from '../core/db/migrations.ts';
import type { Database as Schema } from '../core/db/schema.ts';
import type { Logger } from '../core/ports.ts';
import { WalCheckpointer } from './sqlite-checkpointer.ts';

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew; preparing costs about as much as running a small statement.
 * Reuses prepared statements by SQL text (least recently used dropped past STATEMENT_CACHE_SIZE).
 * Safe because Kysely runs one query at a time on its single SQLite connection.
 */
function withStatementCache(sqlite: Database.Database): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql);
      } else {
        statement = sqlite.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}

export interface SqliteHandle {
  db: Kysely<Schema>;
  /** Stops the background checkpoints, then closes the database. */
  close(): Promise<void>;
}

/**
 * Opens (creating if needed) the SQLite database in WAL mode and applies pending migrations.
 * `:memory:` gives a private in-memory database (tests). A file database gets a WalCheckpointer.
 */
export async function openSqlite(file: string, logger: Logger): Promise<SqliteHandle> {
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commits.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // The WalCheckpointer keeps the WAL well below this; the automatic checkpoint (on the event loop)
  // is the fallback should the checkpointer fail. ~40 MB rather than the default ~4 MB: hot pages
  // (a running session's row) are rewritten many times between checkpoints, so each copies fewer.
  sqlite.pragma('wal_autocheckpoint = 10000');
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  const { error, results } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    await db.destroy();
    throw new Error(`Database migration failed${failed ? ` at ${failed.migrationName}` : ''}: ${String(error)}`);
  }
  const inMemory = file === ':memory:' || file === '';
  const checkpointer = inMemory
    ? null
    : new WalCheckpointer(file, db, (failure) =>
        logger.warn('WAL checkpoint worker failed; automatic checkpoints take over', { error: failure.message }),
      );
  return {
    db,
    async close() {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}
