import type { Kysely } from 'kysely';
import type { Database } from './db/schema.ts';
import type { AppDeps } from './deps.ts';

/** A database transaction plus work to run once it has committed (notifications, never writes). */
export interface Tx {
  db: Kysely<Database>;
  afterCommit(fn: () => void): void;
}

/**
 * Runs `work` in one transaction. State changes and the webhook outbox rows they cause are written
 * together, so a crash can never lose an event or announce a change that did not happen.
 */
export async function transact<T>(deps: AppDeps, work: (tx: Tx) => Promise<T>): Promise<T> {
  const hooks: (() => void)[] = [];
  const result = await deps.db.transaction().execute((trx) => work({ db: trx, afterCommit: (fn) => hooks.push(fn) }));
  for (const hook of hooks) {
    try {
      hook();
    } catch (error) {
      deps.logger.error('after-commit hook failed', { error: String(error) });
    }
  }
  return result;
}
