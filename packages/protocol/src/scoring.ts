import { BEHAVIORAL_PENALTY, type Severity } from './violations.ts';

/** Seed weights: identity 50 %, presence 20 %, behavioral 30 %. */
export const SCORE_WEIGHTS = { identity: 0.5, presence: 0.2, behavioral: 0.3 } as const;

export interface AuthScores {
  overall: number;
  identity: number;
  presence: number;
  behavioral: number;
}

export interface ScoreInputs {
  /** Whether a face template is enrolled. Without one the identity component is 0. */
  enrolled: boolean;
  /** Identity scores (0-100) of every verification so far, or their sum and count. */
  identityScoreSum: number;
  identityScoreCount: number;
  /** Monitored milliseconds, and how many of them had exactly one face visible. */
  monitoredMs: number;
  oneFaceMs: number;
  /** Severities of the behavioral-category violations so far. */
  behavioralViolations: Partial<Record<Severity, number>>;
}

/** Rounds to one decimal, the precision every score is reported with. */
export function roundScore(value: number): number {
  return Math.round(value * 10) / 10;
}

function clamp(value: number): number {
  return Math.min(100, Math.max(0, value));
}

/**
 * The auth score (DESIGN.md), used both by the server (authoritative) and the widget (live display).
 *
 * - identity: mean identity score of the verifications; 100 after enrollment until the first one.
 * - presence: share of monitored time with exactly one face; 100 before any monitored time.
 * - behavioral: 100 minus the penalties of behavioral violations, never below 0.
 *
 * @example computeAuthScores({enrolled: true, identityScoreSum: 0, identityScoreCount: 0,
 *   monitoredMs: 0, oneFaceMs: 0, behavioralViolations: {medium: 1}}).overall // 98.5
 */
export function computeAuthScores(input: ScoreInputs): AuthScores {
  const identity = !input.enrolled
    ? 0
    : input.identityScoreCount === 0
      ? 100
      : clamp(input.identityScoreSum / input.identityScoreCount);
  const presence = input.monitoredMs <= 0 ? 100 : clamp((100 * input.oneFaceMs) / input.monitoredMs);
  let penalty = 0;
  for (const [severity, count] of Object.entries(input.behavioralViolations) as [Severity, number][]) {
    penalty += BEHAVIORAL_PENALTY[severity] * count;
  }
  const behavioral = clamp(100 - penalty);
  const overall =
    SCORE_WEIGHTS.identity * identity + SCORE_WEIGHTS.presence * presence + SCORE_WEIGHTS.behavioral * behavioral;
  return {
    overall: roundScore(overall),
    identity: roundScore(identity),
    presence: roundScore(presence),
    behavioral: roundScore(behavioral),
  };
}
