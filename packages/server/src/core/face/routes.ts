import { AuthScoresSchema, FaceEnrollRequest, VerifyIdentityRequest } from '@secureaccess/protocol';
import { z } from 'zod';
import { requireSessionToken } from '../auth.ts';
import { base64Decode, newId } from '../crypto.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { readJson, type ApiRouter } from '../http.ts';
import { callFaceEngine, enrollSessionFace, faceBlobKeys, requireFaceEngine } from './service.ts';
import { applyPresenceSamples } from '../sessions/presence.ts';
import { enrollmentOf } from '../sessions/service.ts';
import { mutateOwnSession } from '../sessions/widget-routes.ts';

const FaceEnrollResponse = z
  .object({
    enrollment: z.object({ status: z.string(), source: z.string().nullable(), enrolledAt: z.string().nullable() }),
    quality: z.record(z.string(), z.number()),
  })
  .meta({ id: 'FaceEnrollResponse' });

const VerifyIdentityResponse = z
  .object({
    facesDetected: z.number().int(),
    match: z.boolean().optional(),
    similarity: z.number().optional(),
    identityScore: z.number().optional(),
    liveness: z.number().optional(),
    violation: z
      .object({ id: z.string(), type: z.string(), severity: z.string() })
      .nullable()
      .meta({ description: 'The violation this frame raised (identity_mismatch or multiple_faces), if any.' }),
    status: z.string().meta({ description: "The session's status after this verification (`stopped` when it triggered an auto-stop)." }),
    stopReason: z.string().nullable(),
    autoStopped: z.boolean(),
    scores: AuthScoresSchema,
  })
  .meta({ id: 'VerifyIdentityResponse' });

/** Decodes `imageBase64` (with or without a `data:` prefix) within the byte cap. */
export function decodeImage(text: string, maxBytes: number): Uint8Array {
  const payload = text.startsWith('data:') ? text.slice(text.indexOf(',') + 1) : text;
  if (payload.length > Math.ceil((maxBytes * 4) / 3) + 4) {
    throw new ApiError(413, 'payload_too_large', `The image is larger than ${maxBytes} bytes.`);
  }
  const bytes = base64Decode(payload);
  if (!bytes || bytes.length === 0) throw new ApiError(400, 'invalid_image', 'imageBase64 is not valid base64 image data.');
  if (bytes.length > maxBytes) throw new ApiError(413, 'payload_too_large', `The image is larger than ${maxBytes} bytes.`);
  return bytes;
}

/** `face-enroll` and `verify-identity` (seed), decided on the server through the FaceEngine port. */
export function registerFaceRoutes(api: ApiRouter, deps: AppDeps): void {
  const token = requireSessionToken(deps);
  // Base64 inflates by 4/3; allow the JSON envelope on top.
  const bodyLimit = Math.ceil((deps.config.maxImageBytes * 4) / 3) + 64 * 1024;

  api.route(
    {
      method: 'post',
      path: '/api/widget/session/face-enroll',
      tag: 'Widget',
      summary: "Enroll the candidate's face",
      description:
        'A photo from the webcam or an upload. Refused unless it shows exactly one face, large and sharp enough. Re-enrollment is allowed until the assessment starts.',
      auth: 'sessionToken',
      body: FaceEnrollRequest,
      responses: { 200: { description: 'Enrolled.', schema: FaceEnrollResponse } },
      errors: ['no_face', 'multiple_faces', 'face_too_small', 'image_too_blurry', 'invalid_image', 'payload_too_large', 'enrollment_closed', 'face_engine_unavailable', 'face_engine_loading', 'face_engine_busy'],
    },
    token,
    async (c) => {
      const body = await readJson(c, FaceEnrollRequest, bodyLimit);
      const image = decodeImage(body.imageBase64, deps.config.maxImageBytes);
      if (c.get('session').status !== 'created') {
        throw new ApiError(409, 'enrollment_closed', 'The face can only be enrolled before the assessment starts.');
      }
      const { row, quality } = await enrollSessionFace(deps, c.get('integrationRef'), c.get('session').id, image, body.source);
      return c.json({ enrollment: enrollmentOf(row), quality });
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/widget/session/verify-identity',
      tag: 'Widget',
      summary: 'Verify the face during the assessment',
      description:
        'A frame from the webcam. One face that does not match the enrolled one raises `identity_mismatch` (critical); two or more faces raise `multiple_faces`; no face counts as a presence sample with 0 faces.',
      auth: 'sessionToken',
      body: VerifyIdentityRequest,
      responses: { 200: { description: 'The verdict.', schema: VerifyIdentityResponse } },
      errors: ['invalid_image', 'payload_too_large', 'session_not_in_progress', 'enrollment_required', 'face_engine_unavailable', 'face_engine_loading', 'face_engine_busy'],
    },
    token,
    async (c) => {
      const body = await readJson(c, VerifyIdentityRequest, bodyLimit);
      const image = decodeImage(body.imageBase64, deps.config.maxImageBytes);
      const session = c.get('session');
      if (session.status !== 'in_progress') {
        throw new ApiError(409, 'session_not_in_progress', 'Identity is verified only while the assessment is in progress.');
      }
      const engine = requireFaceEngine(deps);
      const template = await deps.blobs.get(faceBlobKeys(session.id).template);
      if (!template) throw new ApiError(409, 'enrollment_required', 'No enrolled face to compare with.');
      const verdict = await callFaceEngine(() => engine.verify(image, template));
      const now = deps.clock.now();
      const kept = await mutateOwnSession(deps, c, async (m) => {
        if (m.row.status !== 'in_progress') throw new ApiError(409, 'session_not_in_progress', 'The assessment is no longer in progress.');
        let violation: { id: string; type: string; severity: string } | null = null;
        if (verdict.facesDetected === 1 && verdict.identityScore !== undefined) {
          m.addIdentityScore(verdict.identityScore);
          if (verdict.match === false) {
            const r = await m.recordViolation({ clientId: newId('verify'), type: 'identity_mismatch', source: 'server', occurredAt: now, details: { similarity: verdict.similarity ?? null } });
            violation = r.violation;
          }
        } else if (verdict.facesDetected >= 2) {
          const r = await m.recordViolation({ clientId: newId('verify'), type: 'multiple_faces', source: 'server', occurredAt: now, details: { faces: verdict.facesDetected } });
          violation = r.violation;
        } else if (verdict.facesDetected === 0) {
          await applyPresenceSamples(m, [{ at: now, faces: 0 }]);
        }
        const row = await m.save();
        return { violation: violation && { id: violation.id, type: violation.type, severity: violation.severity }, row, autoStopped: m.autoStopped, scores: m.scores };
      });
      // Verification images are kept only as evidence for a violation.
      if (kept.violation) await deps.blobs.put(faceBlobKeys(session.id).verification(kept.violation.id), image, 'application/octet-stream');
      return c.json({ ...verdict, violation: kept.violation, status: kept.row.status, stopReason: kept.row.stop_reason, autoStopped: kept.autoStopped, scores: kept.scores });
    },
  );
}
