import { z } from 'zod';
import { AuthScoresSchema, IsoDateTime } from './common.ts';
import { RecordingSummary } from './recording.ts';
import { SEVERITIES, VIOLATION_TYPES, CATEGORIES } from './violations.ts';

export const ASSESSMENT_TYPES = ['recording', 'live', 'hybrid'] as const;
export const SESSION_STATUSES = ['created', 'in_progress', 'completed', 'stopped', 'expired'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** Built-in defaults of the session config (DESIGN.md); an integration can override them. */
export const DEFAULT_SESSION_CONFIG = {
  maxDurationMinutes: 120,
  verifyIntervalSeconds: 60,
  faceAbsentBriefSeconds: 3,
  faceAbsentExtendedSeconds: 15,
  requireFullscreen: true,
  autoStop: { medium: 10, high: 5, critical: 1 },
} as const;

const AutoStopThresholds = z
  .strictObject({
    medium: z.number().int().min(1).max(10_000).optional(),
    high: z.number().int().min(1).max(10_000).optional(),
    critical: z.number().int().min(1).max(10_000).optional(),
  })
  .meta({ description: 'Stop the session when this many violations of a severity have been recorded.' });

/** Session config as a client sends it: every field optional, unknown fields refused. */
export const SessionConfigInput = z
  .strictObject({
    maxDurationMinutes: z.number().int().min(1).max(24 * 60).optional(),
    verifyIntervalSeconds: z.number().int().min(10).max(3600).optional(),
    faceAbsentBriefSeconds: z.number().min(1).max(600).optional(),
    faceAbsentExtendedSeconds: z.number().min(1).max(3600).optional(),
    requireFullscreen: z.boolean().optional(),
    autoStop: z.union([z.literal(false), AutoStopThresholds]).optional(),
  })
  .meta({ id: 'SessionConfigInput' });
export type SessionConfigInput = z.infer<typeof SessionConfigInput>;

/** The resolved config stored with a session. */
export const SessionConfig = z
  .object({
    maxDurationMinutes: z.number().int(),
    verifyIntervalSeconds: z.number().int(),
    faceAbsentBriefSeconds: z.number(),
    faceAbsentExtendedSeconds: z.number(),
    requireFullscreen: z.boolean(),
    autoStop: z.union([
      z.literal(false),
      z.object({ medium: z.number().int().nullable(), high: z.number().int().nullable(), critical: z.number().int().nullable() }),
    ]),
  })
  .meta({ id: 'SessionConfig' });
export type SessionConfig = z.infer<typeof SessionConfig>;

/**
 * Merges built-in defaults, an integration's defaults and the session's own config (later wins).
 * An `autoStop` object replaces the thresholds it names and keeps the others.
 */
export function resolveSessionConfig(...layers: (SessionConfigInput | undefined)[]): SessionConfig {
  const out: SessionConfig = {
    ...DEFAULT_SESSION_CONFIG,
    autoStop: { ...DEFAULT_SESSION_CONFIG.autoStop },
  };
  for (const layer of layers) {
    if (!layer) continue;
    const { autoStop, ...rest } = layer;
    for (const [key, value] of Object.entries(rest)) {
      if (value !== undefined) (out as Record<string, unknown>)[key] = value;
    }
    if (autoStop === false) out.autoStop = false;
    else if (autoStop) {
      const base = out.autoStop === false ? { medium: null, high: null, critical: null } : out.autoStop;
      out.autoStop = {
        medium: autoStop.medium ?? base.medium,
        high: autoStop.high ?? base.high,
        critical: autoStop.critical ?? base.critical,
      };
    }
  }
  return out;
}

export const CreateSessionRequest = z
  .object({
    externalUserId: z.string().trim().min(1).max(255),
    userName: z.string().trim().min(1).max(255).optional(),
    userEmail: z.email().max(320).optional(),
    assessmentTitle: z.string().trim().min(1).max(500).optional(),
    assessmentType: z.enum(ASSESSMENT_TYPES).default('recording'),
    externalAssessmentId: z.string().trim().min(1).max(255).optional(),
    facePhotoUrl: z.url({ protocol: /^https?$/ }).max(2048).optional(),
    config: SessionConfigInput.optional(),
  })
  .meta({ id: 'CreateSessionRequest' });
export type CreateSessionRequest = z.input<typeof CreateSessionRequest>;

export const ENROLLMENT_STATUSES = ['none', 'pending', 'enrolled', 'failed'] as const;

export const Enrollment = z
  .object({
    status: z.enum(ENROLLMENT_STATUSES),
    source: z.enum(['webcam', 'upload', 'url']).nullable(),
    enrolledAt: IsoDateTime.nullable(),
    reason: z.string().optional(),
  })
  .meta({ id: 'Enrollment' });

export const CreateSessionResponse = z
  .object({
    sessionId: z.string(),
    sessionToken: z.string().meta({ description: '`sa_sess_…`: hand it to the browser; it unlocks this session only.' }),
    expiresAt: IsoDateTime,
    status: z.enum(SESSION_STATUSES),
    enrollment: z.object({ status: z.enum(ENROLLMENT_STATUSES), reason: z.string().optional() }),
  })
  .meta({ id: 'CreateSessionResponse' });
export type CreateSessionResponse = z.infer<typeof CreateSessionResponse>;

export const SeverityCountsSchema = z
  .object(Object.fromEntries(SEVERITIES.map((s) => [s, z.number().int()])) as Record<(typeof SEVERITIES)[number], z.ZodNumber>)
  .meta({ id: 'SeverityCounts' });

export const Violation = z
  .object({
    id: z.string(),
    type: z.enum(VIOLATION_TYPES),
    category: z.enum(CATEGORIES),
    severity: z.enum(SEVERITIES),
    source: z.enum(['client', 'server']),
    occurredAt: IsoDateTime,
    receivedAt: IsoDateTime,
    durationMs: z.number().int().nullable(),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'Violation' });
export type Violation = z.infer<typeof Violation>;

/**
 * A violation as a session's results list it: the Violation plus the frame kept as evidence. Only
 * SessionDetail carries it; webhooks, live events and widget responses keep the plain Violation.
 */
export const SessionViolation = Violation.extend({
  imageUrl: z
    .string()
    .nullable()
    .meta({
      description:
        'Path of the verification frame kept for this violation (`/api/widget/sessions/{id}/violations/{violationId}/image`, same credentials as this request), or null when none is kept.',
    }),
}).meta({ id: 'SessionViolation' });
export type SessionViolation = z.infer<typeof SessionViolation>;

export const ScorePoint = z
  .object({ at: IsoDateTime, overall: z.number(), identity: z.number(), presence: z.number(), behavioral: z.number() })
  .meta({ id: 'ScorePoint' });

/** What the widget sees of its own session (session token). */
export const WidgetSession = z
  .object({
    sessionId: z.string(),
    status: z.enum(SESSION_STATUSES),
    stopReason: z.string().nullable(),
    assessmentTitle: z.string().nullable(),
    assessmentType: z.enum(ASSESSMENT_TYPES),
    userName: z.string().nullable(),
    config: SessionConfig,
    enrollment: Enrollment,
    authScore: z.number(),
    scores: AuthScoresSchema,
    violationCounts: SeverityCountsSchema,
    createdAt: IsoDateTime,
    startedAt: IsoDateTime.nullable(),
    endedAt: IsoDateTime.nullable(),
    expiresAt: IsoDateTime,
    consentAt: IsoDateTime.nullable().meta({ description: 'When the candidate accepted the consent text; null until then.' }),
  })
  .meta({ id: 'WidgetSession' });
export type WidgetSession = z.infer<typeof WidgetSession>;

export const SessionSummary = z
  .object({
    sessionId: z.string(),
    externalUserId: z.string().nullable(),
    externalAssessmentId: z.string().nullable(),
    userName: z.string().nullable(),
    userEmail: z.string().nullable(),
    assessmentTitle: z.string().nullable(),
    assessmentType: z.enum(ASSESSMENT_TYPES),
    status: z.enum(SESSION_STATUSES),
    stopReason: z.string().nullable(),
    authScore: z.number(),
    violationCounts: SeverityCountsSchema,
    createdAt: IsoDateTime,
    startedAt: IsoDateTime.nullable(),
    endedAt: IsoDateTime.nullable(),
    erasedAt: IsoDateTime.nullable(),
  })
  .meta({ id: 'SessionSummary' });
export type SessionSummary = z.infer<typeof SessionSummary>;

/** Full results for the LMS (API key). */
export const SessionDetail = SessionSummary.extend({
  stopNote: z
    .string()
    .nullable()
    .meta({ description: 'The free-text reason given with a stop (by the candidate through the widget, or by a proctor).' }),
  config: SessionConfig,
  expiresAt: IsoDateTime,
  scores: AuthScoresSchema,
  clientAuthScore: AuthScoresSchema.partial().extend({ submittedAt: IsoDateTime }).nullable(),
  violations: z.array(SessionViolation),
  scoreSeries: z.array(ScorePoint),
  enrollment: Enrollment,
  documentsCount: z.number().int(),
  messagesCount: z.number().int(),
  consentAt: IsoDateTime.nullable(),
  recording: RecordingSummary,
}).meta({ id: 'SessionDetail' });
export type SessionDetail = z.infer<typeof SessionDetail>;

export const ListSessionsQuery = z.object({
  externalUserId: z.string().optional(),
  externalAssessmentId: z.string().optional(),
  status: z.enum(SESSION_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

export const ListSessionsResponse = z
  .object({ sessions: z.array(SessionSummary), nextCursor: z.string().nullable() })
  .meta({ id: 'ListSessionsResponse' });

export const StopSessionRequest = z
  .object({ reason: z.string().trim().max(500).optional() })
  .meta({ id: 'StopSessionRequest' });

export const SessionStateResponse = z
  .object({
    sessionId: z.string(),
    status: z.enum(SESSION_STATUSES),
    stopReason: z.string().nullable(),
    authScore: z.number(),
    scores: AuthScoresSchema,
    startedAt: IsoDateTime.nullable(),
    endedAt: IsoDateTime.nullable(),
    expiresAt: IsoDateTime,
  })
  .meta({ id: 'SessionStateResponse' });
export type SessionStateResponse = z.infer<typeof SessionStateResponse>;
