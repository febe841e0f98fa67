import { z } from 'zod';
import { AuthScoresSchema, IsoDateTime, Score } from './common.ts';
import { SeverityCountsSchema, Violation } from './session.ts';

/** A client id per event so that a retried request never counts twice. */
export const ClientEventId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'id must be 8-64 characters of A-Z a-z 0-9 _ -');

export const ReportViolationRequest = z
  .object({
    id: ClientEventId,
    type: z.string().min(1).max(64).meta({ description: 'A client-raised type from the violation catalogue.' }),
    occurredAt: IsoDateTime,
    durationMs: z.number().int().min(0).max(24 * 3600 * 1000).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
    severity: z.unknown().optional().meta({ description: 'Ignored: the server derives severity from the type.' }),
  })
  .meta({ id: 'ReportViolationRequest' });
export type ReportViolationRequest = z.infer<typeof ReportViolationRequest>;

export const ReportViolationResponse = z
  .object({
    violation: Violation,
    duplicate: z.boolean().meta({ description: 'True when this id had already been recorded (nothing new counted).' }),
    autoStopped: z.boolean(),
    status: z.string(),
    stopReason: z.string().nullable(),
    violationCounts: SeverityCountsSchema,
    scores: AuthScoresSchema,
  })
  .meta({ id: 'ReportViolationResponse' });
export type ReportViolationResponse = z.infer<typeof ReportViolationResponse>;

export const PresenceSample = z.object({
  at: IsoDateTime,
  faces: z.number().int().min(0).max(100),
});

export const PresenceRequest = z
  .object({ samples: z.array(PresenceSample).min(1).max(1000) })
  .meta({ id: 'PresenceRequest' });
export type PresenceRequest = z.infer<typeof PresenceRequest>;

export const PresenceResponse = z
  .object({
    accepted: z.number().int().meta({ description: 'Samples taken into account (older or duplicate ones are skipped).' }),
    violations: z.array(Violation).meta({ description: 'Violations these samples raised.' }),
    autoStopped: z.boolean(),
    status: z.string(),
    stopReason: z.string().nullable(),
    scores: AuthScoresSchema,
  })
  .meta({ id: 'PresenceResponse' });
export type PresenceResponse = z.infer<typeof PresenceResponse>;

export const SubmitAuthScoreRequest = z
  .object({
    overall: Score,
    identity: Score.optional(),
    presence: Score.optional(),
    behavioral: Score.optional(),
  })
  .meta({ id: 'SubmitAuthScoreRequest' });

export const SubmitAuthScoreResponse = z
  .object({
    authScore: z.number(),
    scores: AuthScoresSchema.meta({ description: "The server's authoritative score." }),
    clientAuthScore: AuthScoresSchema.partial(),
  })
  .meta({ id: 'SubmitAuthScoreResponse' });

export const MESSAGE_ROLES = ['candidate', 'proctor'] as const;

export const SendMessageRequest = z
  .object({ body: z.string().trim().min(1).max(4000) })
  .meta({ id: 'SendMessageRequest' });

export const Message = z
  .object({
    id: z.string(),
    sessionId: z.string(),
    senderRole: z.enum(MESSAGE_ROLES),
    body: z.string(),
    createdAt: IsoDateTime,
  })
  .meta({ id: 'Message' });
export type Message = z.infer<typeof Message>;

export const ListMessagesQuery = z.object({
  after: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const ListMessagesResponse = z.object({ messages: z.array(Message) }).meta({ id: 'ListMessagesResponse' });

export const DOCUMENT_CONTENT_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'image/webp', 'text/plain'] as const;

export const UploadDocumentJson = z
  .object({
    fileName: z.string().trim().min(1).max(255),
    contentType: z.string().max(255).optional().meta({ description: 'Informative only: the type is detected from the bytes.' }),
    dataBase64: z.string().min(1),
  })
  .meta({ id: 'UploadDocumentJson' });

export const DocumentMeta = z
  .object({
    id: z.string(),
    sessionId: z.string(),
    fileName: z.string(),
    contentType: z.enum(DOCUMENT_CONTENT_TYPES),
    sizeBytes: z.number().int(),
    sha256: z.string(),
    uploadedBy: z.enum(MESSAGE_ROLES),
    createdAt: IsoDateTime,
  })
  .meta({ id: 'Document' });
export type DocumentMeta = z.infer<typeof DocumentMeta>;

export const ListDocumentsResponse = z.object({ documents: z.array(DocumentMeta) }).meta({ id: 'ListDocumentsResponse' });

export const FaceEnrollRequest = z
  .object({
    imageBase64: z.string().min(1).meta({ description: 'JPEG, PNG or WebP, base64, with or without a `data:` prefix.' }),
    source: z.enum(['webcam', 'upload']).default('webcam'),
  })
  .meta({ id: 'FaceEnrollRequest' });

export const VerifyIdentityRequest = z
  .object({ imageBase64: z.string().min(1) })
  .meta({ id: 'VerifyIdentityRequest' });
