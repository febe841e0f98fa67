import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isNonPublicAddress, NodeOutboundHttp } from '../src/adapters/node-outbound.ts';
import { ApiError } from '../src/core/errors.ts';
import { fetchFacePhoto } from '../src/core/face/service.ts';
import { createIntegration, makeTestApp, type TestApp } from './helpers.ts';

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0xff, 0xd9]);

/** A photo host on 127.0.0.1 with routes for redirects, errors, slowness and size. */
let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const to = url.searchParams.get('to');
    if (url.pathname === '/photo.jpg') return res.writeHead(200, { 'content-type': 'image/jpeg' }).end(JPEG);
    if (url.pathname === '/redirect' && to) return res.writeHead(302, { location: to }).end();
    if (url.pathname === '/loop') return res.writeHead(302, { location: '/loop' }).end();
    if (url.pathname === '/big') return res.writeHead(200, { 'content-type': 'image/jpeg' }).end(Buffer.alloc(64 * 1024, 1));
    if (url.pathname === '/slow') return void setTimeout(() => res.writeHead(200).end(JPEG), 3000);
    res.writeHead(404).end('not here');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error.code;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('facePhotoUrl fetching', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  /**
   * The production guard, narrowed so that 127.0.0.1 plays "the LMS's public photo host" while every
   * other loopback, private and link-local address stays refused.
   */
  async function guardedApp(config = {}) {
    t = await makeTestApp({ allowPrivateUrls: false, config });
    t.deps.outbound = new NodeOutboundHttp(false, (address) => address !== '127.0.0.1' && isNonPublicAddress(address));
    return t;
  }

  it('downloads a photo from an allowed host', async () => {
    await guardedApp();
    expect(Buffer.from(await fetchFacePhoto(t.deps, `${base}/photo.jpg`))).toEqual(JPEG);
    expect(Buffer.from(await fetchFacePhoto(t.deps, `${base}/redirect?to=/photo.jpg`))).toEqual(JPEG);
  });

  it('refuses loopback, private and link-local targets, directly and through redirects', async () => {
    await guardedApp();
    const port = (server.address() as AddressInfo).port;
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      `http://127.0.0.2:${port}/photo.jpg`,
      'http://10.0.0.1/photo.jpg',
      'http://[::1]/photo.jpg',
      `${base}/redirect?to=${encodeURIComponent('http://169.254.169.254/latest/meta-data/')}`,
      `${base}/redirect?to=${encodeURIComponent(`http://127.0.0.2:${port}/photo.jpg`)}`,
    ]) {
      expect(await failure(fetchFacePhoto(t.deps, url)), url).toBe('photo_url_not_allowed');
    }
  });

  it('refuses 127.0.0.1 with the production guard, and allows it with SECUREACCESS_ALLOW_PRIVATE_URLS', async () => {
    t = await makeTestApp({ allowPrivateUrls: false });
    expect(await failure(fetchFacePhoto(t.deps, `${base}/photo.jpg`))).toBe('photo_url_not_allowed');
    await t.close();
    t = await makeTestApp({ allowPrivateUrls: true });
    expect((await fetchFacePhoto(t.deps, `${base}/photo.jpg`)).length).toBe(JPEG.length);
  });

  it('limits redirects, size and time, and reports HTTP errors', async () => {
    await guardedApp({ maxImageBytes: 32 * 1024, photoFetchTimeoutMs: 500 });
    expect(await failure(fetchFacePhoto(t.deps, `${base}/loop`))).toBe('photo_too_many_redirects');
    expect(await failure(fetchFacePhoto(t.deps, `${base}/big`))).toBe('photo_too_large');
    expect(await failure(fetchFacePhoto(t.deps, `${base}/missing.jpg`))).toBe('photo_fetch_failed');
    const started = Date.now();
    expect(await failure(fetchFacePhoto(t.deps, `${base}/slow`))).toBe('photo_fetch_timeout');
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('reports a failed photo enrollment at creation and leaves the session usable', async () => {
    t = await makeTestApp();
    const integration = await createIntegration(t);
    const res = await t.call('POST', '/api/widget/sessions', {
      token: integration.apiKey,
      body: { externalUserId: 'u1', facePhotoUrl: `${base}/photo.jpg` },
    });
    expect(res.status).toBe(201);
    // No face engine is configured in this app: enrollment cannot happen, and says why.
    expect(res.body.enrollment).toEqual({ status: 'failed', reason: 'face_engine_unavailable' });
    const me = await t.call('GET', '/api/widget/session', { token: res.body.sessionToken });
    expect(me.status).toBe(200);
    expect(me.body.enrollment).toMatchObject({ status: 'failed', reason: 'face_engine_unavailable' });
  });
});
