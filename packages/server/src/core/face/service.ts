import type { AppDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { readLimited } from '../http.ts';
import type { IntegrationRef, SessionRow } from '../http.ts';
import { FaceEngineFailure, UrlNotAllowedError, type FaceEngine, type FaceEnrollResult, type FaceVerifyResult } from '../ports.ts';
import { sessionBlobPrefix } from '../sessions/erase.ts';
import { SessionMutation } from '../sessions/state.ts';
import { transact } from '../tx.ts';

/** Where a session's face template and images live in the blob store (erased with the session). */
export function faceBlobKeys(sessionId: string) {
  const base = `${sessionBlobPrefix(sessionId)}face/`;
  return {
    template: `${base}template.bin`,
    enrollmentImage: `${base}enrollment.img`,
    verification: (violationId: string) => `${base}verify-${violationId}.img`,
  };
}

/** Where the review endpoint serves the verification frame kept for a violation. */
export function violationImagePath(sessionId: string, violationId: string): string {
  return `/api/widget/sessions/${sessionId}/violations/${violationId}/image`;
}

/**
 * The ids of the violations whose verification frame is still stored. Only face verification keeps
 * frames, and only for the violations it raises (server-side identity_mismatch and multiple_faces);
 * erasure deletes them.
 */
export async function violationsWithImages(
  deps: AppDeps,
  session: Pick<SessionRow, 'id' | 'erased_at'>,
  violations: readonly { id: string; type: string; source: string }[],
): Promise<Set<string>> {
  const kept = new Set<string>();
  if (session.erased_at !== null) return kept;
  const keys = faceBlobKeys(session.id);
  const candidates = violations.filter((v) => v.source === 'server' && (v.type === 'identity_mismatch' || v.type === 'multiple_faces'));
  const present = await Promise.all(candidates.map((v) => deps.blobs.has(keys.verification(v.id))));
  candidates.forEach((v, i) => {
    if (present[i]) kept.add(v.id);
  });
  return kept;
}

/** The engine, or 503 while none is configured or its models are still loading. */
export function requireFaceEngine(deps: AppDeps): FaceEngine {
  const engine = deps.faceEngine;
  if (!engine) {
    throw new ApiError(503, 'face_engine_unavailable', 'Face enrollment and verification are not available on this server.');
  }
  if (!engine.ready()) {
    throw new ApiError(503, 'face_engine_loading', 'The face models are still loading; retry in a few seconds.', undefined, { 'Retry-After': '5' });
  }
  return engine;
}

/** Runs an engine call, turning its failures into HTTP answers (400 invalid_image, 503 busy/unavailable). */
export async function callFaceEngine<T extends FaceEnrollResult | FaceVerifyResult>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof FaceEngineFailure)) throw error;
    if (error.code === 'invalid_image') throw new ApiError(400, 'invalid_image', `The image could not be read: ${error.message}`);
    if (error.code === 'busy') {
      throw new ApiError(503, 'face_engine_busy', 'Face analysis is busy; retry in a moment.', undefined, { 'Retry-After': '2' });
    }
    throw new ApiError(503, 'face_engine_unavailable', 'Face analysis failed on the server; retry in a moment.', undefined, { 'Retry-After': '5' });
  }
}

function enrollmentClosed(): ApiError {
  return new ApiError(409, 'enrollment_closed', 'The face can only be enrolled before the assessment starts.');
}

/**
 * Enrolls a face from an image: the engine's quality gate decides (422 `no_face`, `multiple_faces`,
 * `face_too_small`, `image_too_blurry`; 400 `invalid_image`), then the template and the image (for
 * review) are stored and the session marked enrolled. Only before the assessment starts.
 */
export async function enrollSessionFace(
  deps: AppDeps,
  integration: Pick<IntegrationRef, 'id' | 'webhook_url'>,
  sessionId: string,
  image: Uint8Array,
  source: 'webcam' | 'upload' | 'url',
): Promise<{ row: SessionRow; quality: Record<string, number> }> {
  const engine = requireFaceEngine(deps);
  const result = await callFaceEngine(() => engine.enroll(image));
  if (!result.ok) throw new ApiError(result.code === 'invalid_image' ? 400 : 422, result.code, result.message);
  const keys = faceBlobKeys(sessionId);
  await deps.blobs.put(keys.template, result.template, 'application/octet-stream');
  await deps.blobs.put(keys.enrollmentImage, image, 'application/octet-stream');
  const row = await transact(deps, async (tx) => {
    const m = await SessionMutation.load(deps, tx, integration, sessionId);
    if (!m) throw new ApiError(404, 'session_not_found', 'No such session.');
    if (m.row.status !== 'created') throw enrollmentClosed();
    m.row.enrollment_status = 'enrolled';
    m.row.enrollment_source = source;
    m.row.enrollment_reason = null;
    m.row.enrolled_at = deps.clock.now();
    m.recomputeScores();
    return m.save();
  });
  return { row, quality: result.quality };
}

/** Records why enrollment from the LMS's photo failed; the widget's own enrollment flow stays open. */
export async function markEnrollmentFailed(deps: AppDeps, sessionId: string, reason: string): Promise<void> {
  await deps.db
    .updateTable('sessions')
    .set({ enrollment_status: 'failed', enrollment_reason: reason })
    .where('id', '=', sessionId)
    .where('enrollment_status', '!=', 'enrolled')
    .execute();
}

export const PHOTO_MAX_REDIRECTS = 3;

/**
 * Downloads the LMS's face photo: http(s) only, refused for loopback/private/link-local targets on
 * every hop (unless allowed), at most 3 redirects, within the image size cap and `photoFetchTimeoutMs` (10 s) in all.
 */
export async function fetchFacePhoto(deps: AppDeps, url: string): Promise<Uint8Array> {
  const deadline = Date.now() + deps.config.photoFetchTimeoutMs;
  let current = url;
  for (let hop = 0; hop <= PHOTO_MAX_REDIRECTS; hop++) {
    const remaining = Math.max(1, deadline - Date.now());
    let response: Response;
    try {
      response = await deps.outbound.fetch(current, { method: 'GET', timeoutMs: remaining, headers: { accept: 'image/jpeg, image/png, image/webp' } });
    } catch (error) {
      const cause = error instanceof Error ? (error as { cause?: unknown }).cause : undefined;
      if (error instanceof UrlNotAllowedError || cause instanceof UrlNotAllowedError) {
        throw new ApiError(422, 'photo_url_not_allowed', `facePhotoUrl is not allowed: ${((cause ?? error) as Error).message}`);
      }
      if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
        throw new ApiError(422, 'photo_fetch_timeout', 'facePhotoUrl did not answer in time.');
      }
      throw new ApiError(422, 'photo_fetch_failed', `facePhotoUrl could not be fetched: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      await response.body?.cancel().catch(() => undefined);
      if (!location) throw new ApiError(422, 'photo_fetch_failed', `facePhotoUrl answered ${response.status} without a Location.`);
      current = new URL(location, current).toString();
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new ApiError(422, 'photo_fetch_failed', `facePhotoUrl answered HTTP ${response.status}.`);
    }
    const bytes = await readLimited(response.body, deps.config.maxImageBytes);
    if (!bytes) throw new ApiError(422, 'photo_too_large', `The photo is larger than ${deps.config.maxImageBytes} bytes.`);
    return bytes;
  }
  throw new ApiError(422, 'photo_too_many_redirects', `facePhotoUrl redirected more than ${PHOTO_MAX_REDIRECTS} times.`);
}

/**
 * Enrolls from the session's `facePhotoUrl` right after creation. Never throws: the outcome is the
 * enrollment state the creation response reports.
 */
export async function enrollFromPhotoUrl(
  deps: AppDeps,
  integration: Pick<IntegrationRef, 'id' | 'webhook_url'>,
  sessionId: string,
  url: string,
): Promise<{ status: 'enrolled' | 'failed'; reason?: string }> {
  try {
    requireFaceEngine(deps);
    const image = await fetchFacePhoto(deps, url);
    await enrollSessionFace(deps, integration, sessionId, image, 'url');
    return { status: 'enrolled' };
  } catch (error) {
    const reason = error instanceof ApiError ? error.code : 'internal_error';
    if (!(error instanceof ApiError)) deps.logger.error('enrollment from facePhotoUrl failed', { sessionId, error: String(error) });
    await markEnrollmentFailed(deps, sessionId, reason);
    return { status: 'failed', reason };
  }
}
