import type { Violation } from '@secureaccess/protocol';
import type { SessionMutation } from './state.ts';

/** Longest gap between two samples counted as monitored time: beyond it the widget was not watching. */
export const MAX_SAMPLE_GAP_MS = 10_000;
/** A second face must stay this long (≥ 2 samples at 2 fps) before `multiple_faces` is raised. */
export const MULTIPLE_FACES_MIN_MS = 1_000;

export interface PresenceSampleInput {
  at: number;
  faces: number;
}

/**
 * Folds presence samples into the session: monitored time and time with exactly one face (the presence
 * score), and face-absence / multiple-face violations from the durations in the session config.
 *
 * Samples at or before the last one already taken are skipped, so a retried batch changes nothing.
 * Server-raised violations get ids derived from the run's start, so they are raised once per run.
 */
export async function applyPresenceSamples(
  mutation: SessionMutation,
  samples: PresenceSampleInput[],
): Promise<{ accepted: number; violations: Violation[] }> {
  const row = mutation.row;
  const briefMs = mutation.config.faceAbsentBriefSeconds * 1000;
  const extendedMs = mutation.config.faceAbsentExtendedSeconds * 1000;
  const raised: Violation[] = [];
  let accepted = 0;

  const sorted = [...samples].sort((a, b) => a.at - b.at);
  for (const sample of sorted) {
    if (row.status !== 'in_progress') break;
    if (row.last_sample_at !== null && sample.at <= Number(row.last_sample_at)) continue;
    accepted++;

    if (row.last_sample_at !== null) {
      const gap = Math.min(sample.at - Number(row.last_sample_at), MAX_SAMPLE_GAP_MS);
      row.monitored_ms = Number(row.monitored_ms) + gap;
      if (row.last_sample_faces === 1) row.one_face_ms = Number(row.one_face_ms) + gap;
    }

    if (sample.faces === 0) {
      if (row.absent_since === null) {
        row.absent_since = sample.at;
        row.absent_extended_raised = 0;
      } else if (!row.absent_extended_raised && sample.at - Number(row.absent_since) >= extendedMs) {
        row.absent_extended_raised = 1;
        const result = await mutation.recordViolation({
          clientId: `presence-absent-${row.absent_since}`,
          type: 'face_absent_extended',
          source: 'server',
          occurredAt: Number(row.absent_since),
          durationMs: sample.at - Number(row.absent_since),
        });
        if (!result.duplicate) raised.push(result.violation);
      }
    } else if (row.absent_since !== null) {
      const start = Number(row.absent_since);
      const duration = sample.at - start;
      if (!row.absent_extended_raised && duration >= briefMs) {
        const result = await mutation.recordViolation({
          clientId: `presence-absent-${start}`,
          type: duration >= extendedMs ? 'face_absent_extended' : 'face_absent_brief',
          source: 'server',
          occurredAt: start,
          durationMs: duration,
        });
        if (!result.duplicate) raised.push(result.violation);
      }
      row.absent_since = null;
      row.absent_extended_raised = 0;
    }

    if (sample.faces >= 2) {
      if (row.multi_since === null) {
        row.multi_since = sample.at;
        row.multi_raised = 0;
      }
      if (!row.multi_raised && sample.at - Number(row.multi_since) >= MULTIPLE_FACES_MIN_MS) {
        row.multi_raised = 1;
        const result = await mutation.recordViolation({
          clientId: `presence-multi-${row.multi_since}`,
          type: 'multiple_faces',
          source: 'server',
          occurredAt: Number(row.multi_since),
          details: { faces: sample.faces },
        });
        if (!result.duplicate) raised.push(result.violation);
      }
    } else {
      row.multi_since = null;
      row.multi_raised = 0;
    }

    row.last_sample_at = sample.at;
    row.last_sample_faces = sample.faces;
  }
  mutation.recomputeScores();
  return { accepted, violations: raised };
}
