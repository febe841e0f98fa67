import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { StaticAsset, StaticAssets } from '../core/ports.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.bin': 'application/octet-stream',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.d.ts': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** One path segment: no hidden names, nothing but the characters build tools put in file names. */
const SAFE_SEGMENT = /^[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]*$/;

/** The Content-Type of a file name; model shards without an extension are plain bytes. */
export function contentTypeOf(path: string): string {
  if (path.endsWith('.d.ts')) return CONTENT_TYPES['.d.ts']!;
  const dot = path.lastIndexOf('.');
  const slash = path.lastIndexOf('/');
  const extension = dot > slash ? path.slice(dot).toLowerCase() : '';
  return CONTENT_TYPES[extension] ?? 'application/octet-stream';
}

/** Whether a relative asset path may be looked up at all (no `..`, `.`, hidden or empty segments, no absolute path). */
export function isSafeAssetPath(path: string): boolean {
  if (path.length === 0 || path.length > 512) return false;
  return path.split('/').every((segment) => SAFE_SEGMENT.test(segment) && segment !== '..');
}

interface CacheEntry {
  mtimeMs: number;
  size: number;
  asset: StaticAsset;
}

/**
 * Files under one directory (the widget's `dist`). Contents are kept in memory after the first read
 * and read again only when the file's size or modification time changes (a rebuild), so a file is
 * hashed once per version. Symbolic links that lead outside the root are refused.
 */
export class FsStaticAssets implements StaticAssets {
  private readonly root: string;
  private realRoot: string | null = null;
  private readonly cache = new Map<string, CacheEntry>();

  constructor(root: string) {
    this.root = resolve(root);
  }

  async get(path: string): Promise<StaticAsset | null> {
    if (!isSafeAssetPath(path)) return null;
    const full = join(this.root, ...path.split('/'));
    if (!full.startsWith(this.root + sep)) return null;
    try {
      const info = await stat(full);
      if (!info.isFile()) return null;
      const cached = this.cache.get(path);
      if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached.asset;
      this.realRoot ??= await realpath(this.root);
      const real = await realpath(full);
      if (!real.startsWith(this.realRoot + sep)) return null;
      const body = new Uint8Array(await readFile(real));
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      const asset: StaticAsset = { body, contentType: contentTypeOf(path), etag };
      this.cache.set(path, { mtimeMs: info.mtimeMs, size: info.size, asset });
      return asset;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return null;
      throw error;
    }
  }
}
