import { UploadDocumentJson } from '@secureaccess/protocol';
import type { Context } from 'hono';
import type { z } from 'zod';
import { base64Decode } from '../crypto.ts';
import { ApiError } from '../errors.ts';
import { readBodyBytes, readJson } from '../http.ts';

/** Room for multipart boundaries and part headers, or JSON around the base64 text. */
const ENVELOPE_BYTES = 64 * 1024;

export interface UploadedFile {
  /** The name as the client sent it (not yet sanitized). */
  fileName: string;
  bytes: Uint8Array;
}

function fileTooLarge(maxBytes: number): ApiError {
  return new ApiError(413, 'payload_too_large', `The file is larger than the ${maxBytes}-byte limit.`);
}

/** Reads at most `limit` bytes of body; a larger body is reported against the file limit. */
async function readCapped(c: Context, limit: number, maxBytes: number): Promise<Uint8Array> {
  try {
    return await readBodyBytes(c, limit);
  } catch (error) {
    if (error instanceof ApiError && error.status === 413) throw fileTooLarge(maxBytes);
    throw error;
  }
}

async function readMultipart(c: Context, contentType: string, maxBytes: number): Promise<UploadedFile> {
  // The body is read under a cap first; only these bytes are handed to the multipart parser.
  const body = await readCapped(c, maxBytes + ENVELOPE_BYTES, maxBytes);
  let form: FormData;
  try {
    form = await new Response(body as Uint8Array<ArrayBuffer>, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw new ApiError(400, 'invalid_multipart', 'The multipart/form-data body could not be parsed.');
  }
  const file = form.get('file');
  if (file === null || typeof file === 'string') {
    throw new ApiError(400, 'file_required', 'Send the document in a multipart field named "file" (with a file name).');
  }
  if (file.size > maxBytes) throw fileTooLarge(maxBytes);
  return { fileName: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
}

async function readJsonUpload(c: Context, maxBytes: number): Promise<UploadedFile> {
  const limit = Math.ceil(maxBytes / 3) * 4 + ENVELOPE_BYTES;
  let body: z.output<typeof UploadDocumentJson>;
  try {
    body = await readJson(c, UploadDocumentJson, limit);
  } catch (error) {
    if (error instanceof ApiError && error.status === 413) throw fileTooLarge(maxBytes);
    throw error;
  }
  const data = body.dataBase64.replace(/^data:[^,]*;base64,/i, '');
  const bytes = base64Decode(data);
  if (!bytes) throw new ApiError(400, 'invalid_base64', 'dataBase64 is not valid base64.');
  if (bytes.length > maxBytes) throw fileTooLarge(maxBytes);
  return { fileName: body.fileName, bytes };
}

/**
 * Reads an uploaded document: multipart/form-data with a `file` field, or JSON
 * `{fileName, dataBase64}`. Never buffers more than the file limit plus a small envelope.
 */
export async function readUpload(c: Context, maxBytes: number): Promise<UploadedFile> {
  const contentType = c.req.header('content-type') ?? '';
  let file: UploadedFile;
  if (/^multipart\/form-data\b/i.test(contentType)) file = await readMultipart(c, contentType, maxBytes);
  else if (/^application\/(.+\+)?json\b/i.test(contentType)) file = await readJsonUpload(c, maxBytes);
  else {
    throw new ApiError(
      415,
      'unsupported_media_type',
      'Send the document as multipart/form-data (field "file") or as application/json {fileName, dataBase64}.',
    );
  }
  if (file.bytes.length === 0) throw new ApiError(400, 'empty_file', 'The file is empty.');
  return file;
}
