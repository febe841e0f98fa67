import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsStaticAssets, isSafeAssetPath } from '../src/adapters/fs-static-assets.ts';
import { createApp } from '../src/core/app.ts';
import type { AppEnv } from '../src/core/http.ts';
import { makeTestApp, type TestApp } from './helpers.ts';

const SCRIPT = 'window.SecureAccessWidget = function () {};\n';

describe('widget static assets', () => {
  let t: TestApp;
  let dir: string;
  let root: string;
  let app: Hono<AppEnv>;

  beforeEach(async () => {
    t = await makeTestApp();
    dir = mkdtempSync(join(tmpdir(), 'sa-static-'));
    root = join(dir, 'dist');
    mkdirSync(join(root, 'widget', 'models'), { recursive: true });
    mkdirSync(join(root, 'widget', 'wasm'), { recursive: true });
    writeFileSync(join(root, 'secureaccess-widget.js'), SCRIPT);
    writeFileSync(join(root, 'widget', 'detector.js'), 'export const detect = 1;\n');
    writeFileSync(join(root, 'widget', 'detector.js.map'), '{"version":3}');
    writeFileSync(join(root, 'widget', 'index.d.ts'), 'export {};\n');
    writeFileSync(join(root, 'widget', 'style.css'), ':host{}');
    writeFileSync(join(root, 'widget', 'models', 'tiny.json'), '{"weights":[]}');
    writeFileSync(join(root, 'widget', 'models', 'tiny.bin'), new Uint8Array([1, 2, 3, 4]));
    writeFileSync(join(root, 'widget', 'models', 'tiny-shard1'), new Uint8Array([5, 6]));
    writeFileSync(join(root, 'widget', 'wasm', 'backend.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d]));
    writeFileSync(join(root, 'widget', '.env'), 'SECRET=1');
    writeFileSync(join(dir, 'package.json'), '{"name":"outside"}');
    symlinkSync(join(dir, 'package.json'), join(root, 'widget', 'link.json'));
    ({ app } = createApp({ ...t.deps, staticAssets: new FsStaticAssets(root) }));
  });
  afterEach(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the script with a short cache, an ETag, 304 on revalidation and open CORS', async () => {
    const res = await app.request('/secureaccess-widget.js');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(SCRIPT);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^"[^"]+"$/);

    const revalidated = await app.request('/secureaccess-widget.js', { headers: { 'if-none-match': etag! } });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe('');
    const stale = await app.request('/secureaccess-widget.js', { headers: { 'if-none-match': '"old"' } });
    expect(stale.status).toBe(200);

    const head = await app.request('/secureaccess-widget.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(SCRIPT.length));
  });

  it('serves the versioned alias as immutable, for the server version only', async () => {
    const version = t.deps.config.version;
    const plain = await app.request('/secureaccess-widget.js');
    const res = await app.request(`/secureaccess-widget-${version}.js`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(SCRIPT);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('etag')).toBe(plain.headers.get('etag'));
    const other = await app.request('/secureaccess-widget-0.0.0-old.js');
    expect(other.status).toBe(404);
    expect(((await other.json()) as any).error.code).toBe('not_found');
  });

  it('serves the lazy chunk, models and wasm with their content types', async () => {
    const expected: [string, string][] = [
      ['/widget/detector.js', 'text/javascript; charset=utf-8'],
      ['/widget/detector.js.map', 'application/json; charset=utf-8'],
      ['/widget/index.d.ts', 'text/plain; charset=utf-8'],
      ['/widget/style.css', 'text/css; charset=utf-8'],
      ['/widget/models/tiny.json', 'application/json; charset=utf-8'],
      ['/widget/models/tiny.bin', 'application/octet-stream'],
      ['/widget/models/tiny-shard1', 'application/octet-stream'],
      ['/widget/wasm/backend.wasm', 'application/wasm'],
    ];
    for (const [path, type] of expected) {
      const res = await app.request(path);
      expect({ path, status: res.status, type: res.headers.get('content-type') }).toEqual({ path, status: 200, type });
      expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('etag')).toBeTruthy();
    }
    const bin = await app.request('/widget/models/tiny.bin');
    expect(new Uint8Array(await bin.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3, 4]));
  });

  it('answers 404 for unknown files and every way out of the root', async () => {
    const paths = [
      '/widget/missing.js',
      '/widget/..%2f..%2fpackage.json',
      '/widget/..%2fsecureaccess-widget.js',
      '/widget/%2e%2e/%2e%2e/package.json',
      '/widget/models/%2e%2e%2f%2e%2e%2f..%2fpackage.json',
      '/widget/.env',
      '/widget/link.json',
      '/widget/models',
      '/widget/',
      '/widget//etc/passwd',
      '/widget/%2fetc%2fpasswd',
      '/widget/models%5c..%5c..%5cpackage.json',
    ];
    for (const path of paths) {
      const res = await app.request(path);
      const body = (await res.json()) as any;
      expect({ path, status: res.status, code: body.error.code }).toEqual({ path, status: 404, code: 'not_found' });
      // `%2e%2e` segments are resolved by the URL parser itself: such a request never reaches /widget/.
      if (new URL(path, 'http://x').pathname.startsWith('/widget/')) expect(res.headers.get('access-control-allow-origin')).toBe('*');
    }
  });

  it('picks up a rebuilt file (new ETag)', async () => {
    const first = await app.request('/widget/detector.js');
    const etag = first.headers.get('etag');
    writeFileSync(join(root, 'widget', 'detector.js'), 'export const detect = 2;\n');
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(root, 'widget', 'detector.js'), later, later);
    const second = await app.request('/widget/detector.js');
    expect(await second.text()).toBe('export const detect = 2;\n');
    expect(second.headers.get('etag')).not.toBe(etag);
  });

  it('stays out of the OpenAPI document', async () => {
    const doc = (await (await app.request('/api/openapi.json')).json()) as any;
    expect(Object.keys(doc.paths).filter((path) => !path.startsWith('/api/'))).toEqual([]);
  });

  it('answers 503 widget_not_built without a build', async () => {
    const missing = createApp({ ...t.deps, staticAssets: new FsStaticAssets(join(dir, 'nowhere')) }).app;
    const absent = createApp({ ...t.deps, staticAssets: undefined }).app;
    for (const candidate of [missing, absent]) {
      for (const path of ['/secureaccess-widget.js', `/secureaccess-widget-${t.deps.config.version}.js`, '/widget/detector.js']) {
        const res = await candidate.request(path);
        const body = (await res.json()) as any;
        expect({ path, status: res.status, code: body.error.code }).toEqual({ path, status: 503, code: 'widget_not_built' });
        expect(body.error.message).toContain('npm run build');
      }
    }
  });
});

describe('isSafeAssetPath', () => {
  it('accepts plain relative paths and refuses the rest', () => {
    expect(isSafeAssetPath('widget/models/tiny_face_detector_model-shard1')).toBe(true);
    expect(isSafeAssetPath('secureaccess-widget.js')).toBe(true);
    for (const path of ['', '/etc/passwd', 'widget/../x', 'widget/./x', 'widget//x', 'widget/.hidden', '..', 'a\\b', 'a/b/', 'C:/x', 'a\u0000b']) {
      expect({ path, safe: isSafeAssetPath(path) }).toEqual({ path, safe: false });
    }
  });
});
