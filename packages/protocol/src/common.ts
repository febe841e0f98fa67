import { z } from 'zod';

/** Every error response: `{"error": {"code", "message", "details"?}}`. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable machine-readable code, e.g. `session_not_found`.' }),
      message: z.string().meta({ description: 'Human-readable explanation.' }),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;

export const IsoDateTime = z.iso.datetime({ offset: true }).meta({ description: 'ISO 8601 date-time (UTC).' });

/** Public ids are a short prefix plus random characters; nothing path-like gets through. */
export const PublicId = z.string().regex(/^[a-z]{2,5}_[A-Za-z0-9]{8,40}$/, 'not a valid id');

export const Score = z.number().min(0).max(100);
export const AuthScoresSchema = z
  .object({ overall: Score, identity: Score, presence: Score, behavioral: Score })
  .meta({ id: 'AuthScores' });

export const Ok = z.object({ ok: z.literal(true) });
