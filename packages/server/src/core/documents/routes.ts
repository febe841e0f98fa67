import { DocumentMeta, ListDocumentsResponse, UploadDocumentJson } from '@secureaccess/protocol';
import { requireApiKey, requireSessionToken } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import type { ApiRouter, RouteDoc } from '../http.ts';
import { loadOwnSession } from '../sessions/routes.ts';
import { assertCanUpload, downloadDocument, listDocuments, MAX_DOCUMENTS_PER_SESSION, storeDocument } from './service.ts';
import { readUpload } from './upload.ts';

const MULTIPART = [
  {
    contentType: 'multipart/form-data',
    description: 'A field named `file` holding the document; its file name is kept (sanitized).',
  },
];

const UPLOAD_DESCRIPTION =
  'Accepts PDF, PNG, JPEG, WebP and plain UTF-8 text, detected from the bytes (never from the name or declared type); ' +
  'the file name extension must agree with the content. Send multipart/form-data with a `file` field, or JSON ' +
  `\`{fileName, dataBase64}\`. At most the configured size (10 MB by default) and ${MAX_DOCUMENTS_PER_SESSION} documents per session.`;

const UPLOAD_ERRORS = [
  'payload_too_large',
  'unsupported_file_type',
  'unsupported_media_type',
  'empty_file',
  'invalid_base64',
  'invalid_multipart',
  'file_required',
  'invalid_file_name',
  'session_ended',
  'document_limit_reached',
  'validation_failed',
];

const DOWNLOAD_RESPONSE: RouteDoc['responses'] = {
  200: {
    description:
      'The exact bytes, with the detected Content-Type, `Content-Disposition: attachment` and `X-Content-Type-Options: nosniff`.',
    contentType: 'application/octet-stream',
  },
};

/** Documents exchanged between candidate (session token) and proctor (API key). */
export function registerDocumentRoutes(api: ApiRouter, deps: AppDeps): void {
  const token = requireSessionToken(deps);
  const apiKey = requireApiKey(deps);
  const maxBytes = (): number => deps.config.maxDocumentBytes;

  api.route(
    {
      method: 'get',
      path: '/api/widget/session/documents',
      tag: 'Documents',
      summary: 'List documents (candidate)',
      description: "Both sides' documents of this session, oldest first.",
      auth: 'sessionToken',
      responses: { 200: { description: 'The documents.', schema: ListDocumentsResponse } },
      errors: ['invalid_session_token', 'session_token_expired'],
    },
    token,
    async (c) => c.json({ documents: await listDocuments(deps, c.get('session').id) }),
  );

  api.route(
    {
      method: 'post',
      path: '/api/widget/session/documents',
      tag: 'Documents',
      summary: 'Upload a document (candidate)',
      description: `${UPLOAD_DESCRIPTION} The candidate can upload while the session is created or in progress.`,
      auth: 'sessionToken',
      body: UploadDocumentJson,
      bodyAlternatives: MULTIPART,
      responses: { 201: { description: 'Stored.', schema: DocumentMeta } },
      errors: UPLOAD_ERRORS,
    },
    token,
    async (c) => {
      const session = c.get('session');
      await assertCanUpload(deps.db, session.id, 'candidate');
      const file = await readUpload(c, maxBytes());
      const meta = await storeDocument(deps, { id: session.id, integrationId: session.integration_id }, 'candidate', file);
      return c.json(meta, 201);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/widget/session/documents/:id',
      tag: 'Documents',
      summary: 'Download a document (candidate)',
      auth: 'sessionToken',
      responses: DOWNLOAD_RESPONSE,
      errors: ['document_not_found'],
    },
    token,
    async (c) => downloadDocument(deps, c.get('session').id, c.req.param('id')!),
  );

  api.route(
    {
      method: 'get',
      path: '/api/widget/sessions/:id/documents',
      tag: 'Documents',
      summary: "List a session's documents (proctor)",
      description: "Both sides' documents, oldest first.",
      auth: 'apiKey',
      responses: { 200: { description: 'The documents.', schema: ListDocumentsResponse } },
      errors: ['session_not_found'],
    },
    apiKey,
    async (c) => {
      const session = await loadOwnSession(deps, c.get('integration'), c.req.param('id')!);
      return c.json({ documents: await listDocuments(deps, session.id) });
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/widget/sessions/:id/documents',
      tag: 'Documents',
      summary: 'Upload a document to the candidate (proctor)',
      description: `${UPLOAD_DESCRIPTION} The proctor can upload at any time until the session is erased.`,
      auth: 'apiKey',
      body: UploadDocumentJson,
      bodyAlternatives: MULTIPART,
      responses: { 201: { description: 'Stored.', schema: DocumentMeta } },
      errors: ['session_not_found', ...UPLOAD_ERRORS],
    },
    apiKey,
    async (c) => {
      const integration = c.get('integration');
      const session = await loadOwnSession(deps, integration, c.req.param('id')!);
      await assertCanUpload(deps.db, session.id, 'proctor');
      const file = await readUpload(c, maxBytes());
      const meta = await storeDocument(deps, { id: session.id, integrationId: integration.id }, 'proctor', file);
      return c.json(meta, 201);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/widget/sessions/:id/documents/:docId',
      tag: 'Documents',
      summary: 'Download a document (proctor)',
      auth: 'apiKey',
      responses: DOWNLOAD_RESPONSE,
      errors: ['session_not_found', 'document_not_found'],
    },
    apiKey,
    async (c) => {
      const session = await loadOwnSession(deps, c.get('integration'), c.req.param('id')!);
      return downloadDocument(deps, session.id, c.req.param('docId')!);
    },
  );
}
