import { requireApiKey } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import type { ApiRouter, RouteDoc } from '../http.ts';
import { loadOwnSession } from '../sessions/routes.ts';
import { faceBlobKeys } from './service.ts';
import { detectDocumentType } from '../documents/detect.ts';

const VIOLATION_ID = /^vio_[A-Za-z0-9]{20}$/;

const IMAGE_TYPES = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' } as const;

/** The image type from its bytes (the documents' detector); images are stored as received, without a declared type. */
export function sniffImageType(bytes: Uint8Array): 'image/jpeg' | 'image/png' | 'image/webp' | null {
  const { kind } = detectDocumentType(bytes);
  return kind === 'jpeg' || kind === 'png' || kind === 'webp' ? IMAGE_TYPES[kind] : null;
}

function imageResponse(bytes: Uint8Array): Response {
  return new Response(bytes as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: {
      // An image of an unexpected kind is still served, as bytes a browser will not interpret.
      'Content-Type': sniffImageType(bytes) ?? 'application/octet-stream',
      'Content-Length': String(bytes.length),
      'Cache-Control': 'private, no-store',
      'X-Content-Type-Options': 'nosniff',
      'Cross-Origin-Resource-Policy': 'same-origin',
    },
  });
}

const IMAGE_RESPONSE = (description: string): RouteDoc['responses'] => ({
  200: {
    description: `${description} Content-Type sniffed from the bytes (image/jpeg, image/png or image/webp); \`Cache-Control: private, no-store\`.`,
    contentType: 'image/jpeg',
  },
});

/** The face images kept for review: the enrollment photo and the frames that raised violations. */
export function registerFaceImageRoutes(api: ApiRouter, deps: AppDeps): void {
  const apiKey = requireApiKey(deps);

  api.route(
    {
      method: 'get',
      path: '/api/widget/sessions/:id/face/enrollment',
      tag: 'Sessions',
      summary: 'The enrollment photo',
      description: "The image the candidate's face was enrolled from, for review. Gone once the session is erased.",
      auth: 'apiKey',
      responses: IMAGE_RESPONSE('The image.'),
      errors: ['session_not_found', 'enrollment_image_not_found'],
    },
    apiKey,
    async (c) => {
      const session = await loadOwnSession(deps, c.get('integration'), c.req.param('id')!);
      const bytes = await deps.blobs.get(faceBlobKeys(session.id).enrollmentImage);
      if (!bytes) throw new ApiError(404, 'enrollment_image_not_found', 'No enrollment image is kept for this session.');
      return imageResponse(bytes);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/widget/sessions/:id/violations/:violationId/image',
      tag: 'Sessions',
      summary: 'The frame kept for a violation',
      description:
        'The webcam frame of the face verification that raised this violation (`identity_mismatch` or `multiple_faces`). SessionDetail gives its path as the violation\'s `imageUrl`. Gone once the session is erased.',
      auth: 'apiKey',
      responses: IMAGE_RESPONSE('The frame.'),
      errors: ['session_not_found', 'violation_image_not_found'],
    },
    apiKey,
    async (c) => {
      const session = await loadOwnSession(deps, c.get('integration'), c.req.param('id')!);
      const violationId = c.req.param('violationId')!;
      const bytes = VIOLATION_ID.test(violationId) ? await deps.blobs.get(faceBlobKeys(session.id).verification(violationId)) : null;
      if (!bytes) throw new ApiError(404, 'violation_image_not_found', 'No image is kept for this violation.');
      return imageResponse(bytes);
    },
  );
}
