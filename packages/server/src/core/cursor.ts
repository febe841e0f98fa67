import { ApiError } from './errors.ts';

/** An opaque page cursor: the sort key of the last row of a page, as base64 JSON. */
export function encodeCursor(key: (string | number)[]): string {
  return btoa(JSON.stringify(key)).replace(/=+$/, '');
}

/**
 * Decodes a cursor made by `encodeCursor` whose parts have the given types; anything else is
 * 400 `invalid_cursor`.
 */
export function decodeCursor<const T extends readonly ('string' | 'number')[]>(
  cursor: string,
  types: T,
): { [K in keyof T]: T[K] extends 'string' ? string : number } {
  try {
    const value = JSON.parse(atob(cursor)) as unknown;
    if (
      Array.isArray(value) &&
      value.length === types.length &&
      value.every((part, i) => (types[i] === 'number' ? Number.isSafeInteger(part) : typeof part === 'string'))
    ) {
      return value as { [K in keyof T]: T[K] extends 'string' ? string : number };
    }
  } catch {
    // fall through
  }
  throw new ApiError(400, 'invalid_cursor', 'The cursor is not valid: pass nextCursor from a previous page.');
}
