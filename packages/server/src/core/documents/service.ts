import type { DocumentMeta } from '@secureaccess/protocol';
import type { Kysely, Selectable } from 'kysely';
import { newId, sha256Hex } from '../crypto.ts';
import type { Database, DocumentsTable } from '../db/schema.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError, errors } from '../errors.ts';
import { iso } from '../http.ts';
import { sessionBlobPrefix } from '../sessions/erase.ts';
import { transact } from '../tx.ts';
import { classifyDocument, contentDisposition, type DocumentContentType, sanitizeFileName } from './detect.ts';
import type { UploadedFile } from './upload.ts';

export type Uploader = 'candidate' | 'proctor';
type DocumentRow = Selectable<DocumentsTable>;

/** Ids are ours (`newId('doc')`); anything else, path-like ids included, never reaches the store. */
const DOCUMENT_ID = /^doc_[A-Za-z0-9]{20}$/;

/** Keeps one session from filling the disk: 50 documents of at most maxDocumentBytes each. */
export const MAX_DOCUMENTS_PER_SESSION = 50;

/** Statuses in which the candidate may hand in documents; the proctor may until erasure. */
const CANDIDATE_UPLOAD_STATUSES: readonly string[] = ['created', 'in_progress'];

export function toDocumentMeta(row: DocumentRow): DocumentMeta {
  return {
    id: row.id,
    sessionId: row.session_id,
    fileName: row.file_name,
    contentType: row.content_type as DocumentContentType,
    sizeBytes: Number(row.size_bytes),
    sha256: row.sha256,
    uploadedBy: row.uploaded_by,
    createdAt: iso(Number(row.created_at)),
  };
}

function documentNotFound(): ApiError {
  return errors.notFound('document');
}

/** Both sides' documents of a session, oldest first. */
export async function listDocuments(deps: AppDeps, sessionId: string): Promise<DocumentMeta[]> {
  const rows = await deps.db
    .selectFrom('documents')
    .selectAll()
    .where('session_id', '=', sessionId)
    .orderBy('created_at', 'asc')
    .orderBy('id', 'asc')
    .execute();
  return rows.map(toDocumentMeta);
}

/**
 * Refuses an upload the session no longer takes (409 `session_ended`) or one past the per-session
 * count. Routes call it before reading the body; storeDocument again inside its transaction.
 */
export async function assertCanUpload(db: Kysely<Database>, sessionId: string, uploader: Uploader): Promise<void> {
  const session = await db.selectFrom('sessions').select(['status', 'erased_at']).where('id', '=', sessionId).executeTakeFirst();
  if (!session) throw errors.sessionNotFound();
  if (session.erased_at !== null) {
    throw errors.invalidState('session_ended', "The session's personal data has been erased; it takes no more documents.");
  }
  if (uploader === 'candidate' && !CANDIDATE_UPLOAD_STATUSES.includes(session.status)) {
    throw errors.invalidState('session_ended', `The session is ${session.status}; documents can no longer be handed in.`);
  }
  const { count } = await db
    .selectFrom('documents')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('session_id', '=', sessionId)
    .executeTakeFirstOrThrow();
  if (Number(count) >= MAX_DOCUMENTS_PER_SESSION) {
    throw errors.invalidState('document_limit_reached', `A session holds at most ${MAX_DOCUMENTS_PER_SESSION} documents.`);
  }
}

/**
 * Checks (name, type, session state) and stores an uploaded document. The blob is written first and the row second, in a
 * transaction that checks the session again; if the row cannot be written the blob is removed, so a
 * failure leaves neither. Listeners hear about it (`document`) after the commit.
 */
export async function storeDocument(
  deps: AppDeps,
  session: { id: string; integrationId: string },
  uploader: Uploader,
  file: UploadedFile,
): Promise<DocumentMeta> {
  const fileName = sanitizeFileName(file.fileName);
  const kind = classifyDocument(file.bytes, fileName);

  const id = newId('doc');
  const blobKey = `${sessionBlobPrefix(session.id)}documents/${id}`;
  const row: DocumentRow = {
    id,
    session_id: session.id,
    uploaded_by: uploader,
    file_name: fileName,
    content_type: kind.contentType,
    size_bytes: file.bytes.length,
    sha256: await sha256Hex(file.bytes),
    blob_key: blobKey,
    created_at: deps.clock.now(),
  };
  await deps.blobs.put(blobKey, file.bytes, kind.contentType);
  try {
    return await transact(deps, async (tx) => {
      await assertCanUpload(tx.db, session.id, uploader);
      await tx.db.insertInto('documents').values(row).execute();
      const meta = toDocumentMeta(row);
      tx.afterCommit(() =>
        deps.bus.publish({ sessionId: session.id, integrationId: session.integrationId, event: 'document', data: meta }),
      );
      return meta;
    });
  } catch (error) {
    await deps.blobs.delete(blobKey).catch((cleanup: unknown) => {
      deps.logger.error('orphan document blob could not be removed', { sessionId: session.id, documentId: id, error: String(cleanup) });
    });
    throw error;
  }
}

/** A document of this session as an HTTP download; 404 `document_not_found` for any other id. */
export async function downloadDocument(deps: AppDeps, sessionId: string, documentId: string): Promise<Response> {
  if (!DOCUMENT_ID.test(documentId)) throw documentNotFound();
  const row = await deps.db
    .selectFrom('documents')
    .selectAll()
    .where('id', '=', documentId)
    .where('session_id', '=', sessionId)
    .executeTakeFirst();
  if (!row) throw documentNotFound();
  const bytes = await deps.blobs.get(row.blob_key);
  if (!bytes) {
    deps.logger.error('document blob missing', { sessionId, documentId });
    throw documentNotFound();
  }
  const contentType = row.content_type === 'text/plain' ? 'text/plain; charset=utf-8' : row.content_type;
  return new Response(bytes as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: {
      'Content-Type': contentType,
      'Content-Length': String(bytes.length),
      'Content-Disposition': contentDisposition(row.file_name),
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'private, no-store',
      // Should the file be opened in a tab anyway, nothing in it may run.
      'Content-Security-Policy': "default-src 'none'; sandbox",
      // Lets the widget read the file name on a cross-origin download.
      'Access-Control-Expose-Headers': 'Content-Disposition, Content-Length',
    },
  });
}
