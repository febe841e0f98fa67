import {
  computeAuthScores,
  VIOLATION_CATALOGUE,
  type AuthScores,
  type SessionConfig,
  type Severity,
  type SeverityCounts,
  type Violation,
  type ViolationType,
} from '@secureaccess/protocol';
import { newId } from '../crypto.ts';
import { errors, type ApiError } from '../errors.ts';
import type { AppDeps } from '../deps.ts';
import { iso, parseJsonColumn, type IntegrationRow, type SessionRow } from '../http.ts';
import type { Tx } from '../tx.ts';
import { enqueueWebhook } from '../webhooks/outbox.ts';
import type { Insertable, Selectable } from 'kysely';
import { PreparedQuery } from '../db/prepared.ts';
import type { ScorePointsTable, ViolationsTable } from '../db/schema.ts';

export const TERMINAL_STATUSES: ReadonlySet<SessionRow['status']> = new Set(['completed', 'stopped', 'expired']);

/** 409 `session_not_in_progress`, saying what state the session is in. */
export function notInProgressError(row: SessionRow): ApiError {
  return errors.invalidState(
    'session_not_in_progress',
    row.status === 'created'
      ? 'The assessment has not started yet.'
      : `The session is ${row.status}${row.stop_reason ? ` (${row.stop_reason})` : ''}; it no longer accepts events.`,
  );
}

export function sessionConfig(row: SessionRow): SessionConfig {
  return parseJsonColumn(row.config, null as unknown as SessionConfig);
}

export function severityCounts(row: SessionRow): SeverityCounts {
  return { low: row.count_low, medium: row.count_medium, high: row.count_high, critical: row.count_critical };
}

export function storedScores(row: SessionRow): AuthScores {
  return {
    overall: row.score_overall,
    identity: row.score_identity,
    presence: row.score_presence,
    behavioral: row.score_behavioral,
  };
}

export function scoresFromState(row: SessionRow): AuthScores {
  return computeAuthScores({
    enrolled: row.enrollment_status === 'enrolled',
    identityScoreSum: row.identity_sum,
    identityScoreCount: row.identity_count,
    monitoredMs: Number(row.monitored_ms),
    oneFaceMs: Number(row.one_face_ms),
    behavioralViolations: {
      low: row.behavioral_low,
      medium: row.behavioral_medium,
      high: row.behavioral_high,
      critical: row.behavioral_critical,
    },
  });
}

export function violationFromRow(row: Selectable<ViolationsTable>): Violation {
  return {
    id: row.id,
    type: row.type as ViolationType,
    category: row.category as Violation['category'],
    severity: row.severity as Severity,
    source: row.source,
    occurredAt: iso(row.occurred_at),
    receivedAt: iso(row.received_at),
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    details: parseJsonColumn(row.details, null),
  };
}

// The statements of every session change, compiled once (see PreparedQuery).
const sessionById = new PreparedQuery((db, p: { id: string }) => db.selectFrom('sessions').selectAll().where('id', '=', p.id));
const violationByClientId = new PreparedQuery((db, p: { sessionId: string; clientId: string }) =>
  db.selectFrom('violations').selectAll().where('session_id', '=', p.sessionId).where('client_id', '=', p.clientId),
);
const insertViolationOnce = new PreparedQuery((db, row: Selectable<ViolationsTable>) =>
  db
    .insertInto('violations')
    .values(row)
    .onConflict((oc) => oc.columns(['session_id', 'client_id']).doNothing()),
);
/** `whereId` is not a column, so it cannot collide with a changed one. */
const updateSession = new PreparedQuery((db, { whereId, ...set }: Partial<SessionRow> & { whereId: string }) =>
  db.updateTable('sessions').set(set).where('id', '=', whereId),
);
const insertScorePoint = new PreparedQuery((db, point: Insertable<ScorePointsTable>) => db.insertInto('score_points').values(point));

export interface NewViolation {
  /** Client event id, or a deterministic id for server-raised ones, so that retries never double count. */
  clientId: string;
  type: ViolationType;
  source: 'client' | 'server';
  occurredAt: number;
  durationMs?: number | null;
  details?: Record<string, unknown> | null;
}

export interface RecordedViolation {
  violation: Violation;
  duplicate: boolean;
}

/**
 * A session being changed inside one transaction. Methods mutate `row` in memory and queue inserts
 * and webhooks on the transaction; `save()` writes the row back once, with a score point when the
 * score moved. Everything therefore commits or rolls back together.
 */
export class SessionMutation {
  readonly row: SessionRow;
  readonly config: SessionConfig;
  private readonly scoreBefore: AuthScores;
  private readonly original: SessionRow;
  autoStopped = false;
  private forceScorePoint = false;

  constructor(
    private readonly deps: AppDeps,
    private readonly tx: Tx,
    readonly integration: Pick<IntegrationRow, 'id' | 'webhook_url'>,
    row: SessionRow,
  ) {
    this.original = row;
    this.row = { ...row };
    this.config = sessionConfig(row);
    this.scoreBefore = storedScores(row);
  }

  /** Loads the session's current row inside the transaction (the caller's copy may be stale). */
  static async load(
    deps: AppDeps,
    tx: Tx,
    integration: Pick<IntegrationRow, 'id' | 'webhook_url'>,
    sessionId: string,
  ): Promise<SessionMutation | null> {
    const row = await sessionById.first(deps.db, { id: sessionId }, tx.db);
    return row ? new SessionMutation(deps, tx, integration, row) : null;
  }

  get now(): number {
    return this.deps.clock.now();
  }

  get scores(): AuthScores {
    return storedScores(this.row);
  }

  recomputeScores(): AuthScores {
    const scores = scoresFromState(this.row);
    this.row.score_overall = scores.overall;
    this.row.score_identity = scores.identity;
    this.row.score_presence = scores.presence;
    this.row.score_behavioral = scores.behavioral;
    return scores;
  }

  private base() {
    return {
      sessionId: this.row.id,
      externalUserId: this.row.external_user_id,
      externalAssessmentId: this.row.external_assessment_id,
      timestamp: new Date(this.now).toISOString(),
      authScore: this.row.score_overall,
    };
  }

  private publish(event: 'status' | 'score' | 'violation', data: unknown): void {
    const { bus } = this.deps;
    const sessionId = this.row.id;
    const integrationId = this.row.integration_id;
    this.tx.afterCommit(() => bus.publish({ sessionId, integrationId, event, data }));
  }

  /** The violation already recorded under this client id, if any. */
  async findViolation(clientId: string): Promise<RecordedViolation | null> {
    const existing = await violationByClientId.first(this.deps.db, { sessionId: this.row.id, clientId }, this.tx.db);
    return existing ? { violation: violationFromRow(existing), duplicate: true } : null;
  }

  /**
   * Records a violation once per `clientId`: counts it, rescores, emits `violation.detected`, and
   * stops the session at once when its severity reaches the auto-stop threshold.
   */
  async recordViolation(input: NewViolation): Promise<RecordedViolation> {
    const rule = VIOLATION_CATALOGUE[input.type];
    const row: Selectable<ViolationsTable> = {
      id: newId('vio'),
      session_id: this.row.id,
      client_id: input.clientId,
      type: input.type,
      category: rule.category,
      severity: rule.severity,
      source: input.source,
      occurred_at: input.occurredAt,
      received_at: this.now,
      duration_ms: input.durationMs ?? null,
      details: input.details ? JSON.stringify(input.details) : null,
    };
    // The (session, client id) unique key decides: a retried id inserts nothing and gets the first row.
    const inserted = await insertViolationOnce.run(this.deps.db, row, this.tx.db);
    if (Number(inserted.numAffectedRows ?? 0n) === 0) {
      const existing = await this.findViolation(input.clientId);
      if (existing) return existing;
      throw new Error(`violation ${input.clientId} neither inserted nor found`);
    }
    const violation = violationFromRow(row);

    const severity = rule.severity;
    this.row[`count_${severity}`] += 1;
    if (rule.category === 'behavioral') this.row[`behavioral_${severity}`] += 1;
    this.recomputeScores();
    await enqueueWebhook(this.deps, this.tx, this.integration, {
      ...this.base(),
      type: 'violation.detected',
      violation,
      violationCounts: severityCounts(this.row),
    });
    this.publish('violation', violation);

    const threshold = this.config.autoStop === false ? null : severity === 'low' ? null : this.config.autoStop[severity];
    if (this.row.status === 'in_progress' && threshold !== null && this.row[`count_${severity}`] >= threshold) {
      await this.end('stopped', `auto:${severity}`);
      this.autoStopped = true;
    }
    return { violation, duplicate: false };
  }

  /** Adds one identity verification score (0-100) to the running mean. */
  addIdentityScore(score: number): void {
    this.row.identity_sum += score;
    this.row.identity_count += 1;
    this.recomputeScores();
  }

  async start(): Promise<void> {
    const now = this.now;
    this.row.status = 'in_progress';
    this.row.started_at = now;
    this.row.expires_at = now + this.config.maxDurationMinutes * 60_000 + this.deps.config.tokenGraceMs;
    this.recomputeScores();
    this.forceScorePoint = true;
    await enqueueWebhook(this.deps, this.tx, this.integration, { ...this.base(), type: 'session.started' });
    this.publish('status', this.statusData());
  }

  /**
   * Ends the session: `completed`, `stopped` (with a reason) or `expired`. Emits the matching
   * `session.*` event and, for a started session, the final `score.submitted`.
   */
  async end(status: 'completed' | 'stopped' | 'expired', stopReason: string | null, note?: string): Promise<void> {
    const wasStarted = this.row.started_at !== null;
    this.row.status = status;
    this.row.stop_reason = stopReason;
    this.row.stop_note = note ?? null;
    this.row.ended_at = this.now;
    this.recomputeScores();
    const scores = this.scores;
    const violationCounts = severityCounts(this.row);
    if (status === 'completed') {
      await enqueueWebhook(this.deps, this.tx, this.integration, {
        ...this.base(),
        type: 'session.completed',
        scores,
        violationCounts,
      });
    } else {
      await enqueueWebhook(this.deps, this.tx, this.integration, {
        ...this.base(),
        type: 'session.stopped',
        stopReason: stopReason ?? status,
        status,
        scores,
        violationCounts,
      });
    }
    if (wasStarted) {
      await enqueueWebhook(this.deps, this.tx, this.integration, {
        ...this.base(),
        type: 'score.submitted',
        final: true,
        status,
        scores,
        violationCounts,
      });
    }
    this.publish('status', this.statusData());
  }

  /**
   * Stops a running session for `reason`. Repeating the same stop answers the row unchanged; any other
   * state is 409 `session_not_in_progress`.
   */
  async stop(reason: 'manual' | 'proctor', note?: string): Promise<SessionRow> {
    if (this.row.status === 'stopped' && this.row.stop_reason === reason) return this.row;
    if (this.row.status !== 'in_progress') throw notInProgressError(this.row);
    await this.end('stopped', reason, note);
    return this.save();
  }

  statusData() {
    return {
      status: this.row.status,
      stopReason: this.row.stop_reason,
      authScore: this.row.score_overall,
      scores: this.scores,
    };
  }

  /** Writes the changed columns back, and a score point when the score changed. */
  async save(): Promise<SessionRow> {
    const id = this.row.id;
    const changed: Partial<SessionRow> = {};
    for (const key of Object.keys(this.row) as (keyof SessionRow)[]) {
      if (this.row[key] !== this.original[key]) (changed as Record<string, unknown>)[key] = this.row[key];
    }
    if (Object.keys(changed).length > 0) {
      await updateSession.run(this.deps.db, { ...changed, whereId: id }, this.tx.db);
    }
    const scores = this.scores;
    const before = this.scoreBefore;
    if (
      this.forceScorePoint ||
      scores.overall !== before.overall ||
      scores.identity !== before.identity ||
      scores.presence !== before.presence ||
      scores.behavioral !== before.behavioral
    ) {
      await insertScorePoint.run(this.deps.db, { session_id: id, at: this.now, ...scores }, this.tx.db);
      this.publish('score', scores);
    }
    return this.row;
  }
}
