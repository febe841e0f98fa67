import type { DOCUMENT_CONTENT_TYPES } from '@secureaccess/protocol';
import { ApiError } from '../errors.ts';

export type DocumentContentType = (typeof DOCUMENT_CONTENT_TYPES)[number];
export type DocumentKind = 'pdf' | 'png' | 'jpeg' | 'webp' | 'txt';

interface KindInfo {
  contentType: DocumentContentType;
  /** File name extensions (lower case, no dot) that agree with this content. */
  extensions: readonly string[];
  label: string;
}

export const DOCUMENT_KINDS: Record<DocumentKind, KindInfo> = {
  pdf: { contentType: 'application/pdf', extensions: ['pdf'], label: 'a PDF document' },
  png: { contentType: 'image/png', extensions: ['png'], label: 'a PNG image' },
  jpeg: { contentType: 'image/jpeg', extensions: ['jpg', 'jpeg'], label: 'a JPEG image' },
  webp: { contentType: 'image/webp', extensions: ['webp'], label: 'a WebP image' },
  txt: { contentType: 'text/plain', extensions: ['txt'], label: 'plain text' },
};

/** What the bytes are: an accepted kind, or a description of what was found instead. */
export type Detection = { kind: DocumentKind } | { kind: null; description: string };

const ALLOWED_SUMMARY = 'PDF, PNG, JPEG, WebP or plain UTF-8 text';

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((byte, i) => bytes[offset + i] === byte);
}

function ascii(text: string): number[] {
  return Array.from(text, (ch) => ch.charCodeAt(0));
}

/** Signatures of common types that are refused, only to say what was found. */
const REFUSED_SIGNATURES: { signature: number[]; offset?: number; description: string }[] = [
  { signature: ascii('GIF8'), description: 'a GIF image' },
  { signature: [0x50, 0x4b, 0x03, 0x04], description: 'a ZIP archive (or an Office document)' },
  { signature: [0x1f, 0x8b], description: 'a gzip archive' },
  { signature: ascii('MZ'), description: 'a Windows executable' },
  { signature: [0x7f, 0x45, 0x4c, 0x46], description: 'an ELF executable' },
  { signature: ascii('BM'), description: 'a BMP image' },
  { signature: [0xd0, 0xcf, 0x11, 0xe0], description: 'a legacy Office document' },
];

/**
 * Markup a browser could render as active content. Refused even as text: with `nosniff` and
 * `attachment` it would be harmless here, but a proctor may open it elsewhere.
 */
const MARKUP_START = /^<(?:!doctype|html|head|body|script|svg|iframe|object|embed|meta|style|link|\?xml|!--)/i;

/** Tab, LF, FF and CR are the only control characters a text document may hold. */
const FORBIDDEN_TEXT_CHARS = /[\u0000-\u0008\u000b\u000e-\u001f\u007f-\u009f]/;

function classifyText(bytes: Uint8Array): 'text' | 'markup' | 'not_text' {
  let text: string;
  try {
    // The decoder drops a leading UTF-8 BOM.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return 'not_text';
  }
  if (FORBIDDEN_TEXT_CHARS.test(text)) return 'not_text';
  const start = text.slice(0, 256).replace(/^[\s\uFEFF]+/, '');
  return MARKUP_START.test(start) ? 'markup' : 'text';
}

/** Detects the document type from its bytes alone (magic numbers; text must be clean UTF-8). */
export function detectDocumentType(bytes: Uint8Array): Detection {
  if (startsWith(bytes, ascii('%PDF-'))) return { kind: 'pdf' };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: 'png' };
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { kind: 'jpeg' };
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return { kind: 'webp' };
  const text = classifyText(bytes);
  if (text === 'text') return { kind: 'txt' };
  if (text === 'markup') return { kind: null, description: 'HTML/XML markup' };
  for (const refused of REFUSED_SIGNATURES) {
    if (startsWith(bytes, refused.signature, refused.offset)) return { kind: null, description: refused.description };
  }
  return { kind: null, description: 'binary data of an unrecognised type' };
}

function extensionOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot === -1 ? '' : fileName.slice(dot + 1).toLowerCase();
}

/**
 * Detects the type and checks that the file name's extension agrees with it; 415
 * `unsupported_file_type` otherwise, saying what was detected.
 */
export function classifyDocument(bytes: Uint8Array, fileName: string): KindInfo {
  const detection = detectDocumentType(bytes);
  if (detection.kind === null) {
    throw new ApiError(415, 'unsupported_file_type', `The file's content is ${detection.description}; only ${ALLOWED_SUMMARY} is accepted.`);
  }
  const info = DOCUMENT_KINDS[detection.kind];
  const extension = extensionOf(fileName);
  if (!info.extensions.includes(extension)) {
    const expected = info.extensions.map((e) => `.${e}`).join(' or ');
    const found = extension ? `ends in ".${extension}"` : 'has no extension';
    throw new ApiError(
      415,
      'unsupported_file_type',
      `The file's content is ${info.label}, but its name "${fileName}" ${found}; name it with ${expected}.`,
    );
  }
  return info;
}

const MAX_FILE_NAME_CHARS = 200;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// C0/C1 controls and bidirectional overrides (which can disguise an extension: "cod\u202Efdp.exe").
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The name kept for a document: the last path component, without control or bidi characters or
 * characters that file systems refuse, at most 200 characters (the extension is kept). 400
 * `invalid_file_name` when nothing usable is left.
 */
export function sanitizeFileName(raw: string): string {
  let name = raw.replace(LONE_SURROGATE, '\uFFFD').normalize('NFC');
  name = name.split(/[\\/]/).pop() ?? '';
  name = name.replace(UNSAFE_CHARS, '').replace(/[<>:"|?*]/g, '_').trim().replace(/[. ]+$/, '');
  if (name === '' || /^\.+$/.test(name)) {
    throw new ApiError(400, 'invalid_file_name', 'The file name is empty once path components and control characters are removed.');
  }
  const chars = Array.from(name);
  if (chars.length > MAX_FILE_NAME_CHARS) {
    const dot = name.lastIndexOf('.');
    const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
    const baseChars = Array.from(extension ? name.slice(0, dot) : name);
    name = baseChars.slice(0, MAX_FILE_NAME_CHARS - extension.length).join('') + extension;
  }
  return name;
}

/** `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / RFC 5987). */
export function contentDisposition(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(fileName.replace(LONE_SURROGATE, '\uFFFD')).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
