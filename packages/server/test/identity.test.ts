import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import sharp from 'sharp';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WorkerFaceEngine } from '../src/adapters/face-engine.ts';
import { FACES_DIR, pngHeader } from '../../face/test/faces.ts';
import { createIntegration, createSession, makeTestApp, TestClock, type TestApp } from './helpers.ts';
import { WebhookReceiver } from './webhook-receiver.ts';

/** Real photos from ../shared/faces (never copied into the repository). */
const photo = (relative: string) => readFileSync(join(FACES_DIR, relative));
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

let engine: WorkerFaceEngine;
let photoHost: Server;
let photoBase: string;

beforeAll(async () => {
  engine = await WorkerFaceEngine.start({ workers: 1 });
  await engine.whenReady();
  photoHost = createServer((req, res) => {
    if (req.url === '/john.jpg') return res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo('images/barack_obama/1.jpg'));
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => photoHost.listen(0, '127.0.0.1', resolve));
  photoBase = `http://127.0.0.1:${(photoHost.address() as AddressInfo).port}`;
}, 60_000);
afterAll(async () => {
  await engine?.close();
  photoHost?.closeAllConnections();
  await new Promise((resolve) => photoHost?.close(resolve));
});

describe('identity through the API (real face engine)', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  beforeEach(async () => {
    // Webhook signatures carry the app's clock: keep it at the real time for the verifier.
    t = await makeTestApp({ faceEngine: engine, clock: new TestClock(Date.now()) });
    receiver = await WebhookReceiver.start();
  });
  afterEach(async () => {
    await t.close();
    await receiver.close();
  });

  const enroll = (token: string, bytes: Uint8Array, source = 'upload') =>
    t.call('POST', '/api/widget/session/face-enroll', { token, body: { imageBase64: b64(bytes), source } });
  const verify = (token: string, bytes: Uint8Array) => t.call('POST', '/api/widget/session/verify-identity', { token, body: { imageBase64: b64(bytes) } });

  it('enrolls, matches the same person, and stops the session on another person', async () => {
    const integration = await createIntegration(t, { name: 'LMS', webhookUrl: receiver.url() });
    const session = await createSession(t, integration.apiKey);
    const token = session.sessionToken;

    const enrolled = await t.call('POST', '/api/widget/session/face-enroll', {
      token,
      body: { imageBase64: `data:image/jpeg;base64,${b64(photo('images/barack_obama/1.jpg'))}`, source: 'webcam' },
    });
    expect(enrolled.status).toBe(200);
    expect(enrolled.body.enrollment).toMatchObject({ status: 'enrolled', source: 'webcam' });
    expect(enrolled.body.quality.faceSize).toBeGreaterThan(32);
    expect((await t.call('POST', '/api/widget/session/start', { token })).status).toBe(200);

    const same = await verify(token, photo('images/barack_obama/2.jpg'));
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ facesDetected: 1, match: true });
    expect(same.body.identityScore).toBeGreaterThan(90);
    const afterMatch = await t.call('GET', '/api/widget/session', { token });
    expect(afterMatch.body.status).toBe('in_progress');
    expect(afterMatch.body.scores.identity).toBe(Math.round(same.body.identityScore * 10) / 10);

    const other = await verify(token, photo('images/alex_lacamoire/1.jpg'));
    expect(other.status).toBe(200);
    expect(other.body).toMatchObject({
      facesDetected: 1,
      match: false,
      violation: { type: 'identity_mismatch', severity: 'critical' },
      status: 'stopped',
      stopReason: 'auto:critical',
      autoStopped: true,
    });
    expect(other.body.identityScore).toBeLessThan(10);

    const detail = await t.call('GET', `/api/widget/sessions/${session.sessionId}`, { token: integration.apiKey });
    expect(detail.body).toMatchObject({ status: 'stopped', stopReason: 'auto:critical', violationCounts: { critical: 1 } });
    expect(detail.body.violations.map((v: { type: string }) => v.type)).toEqual(['identity_mismatch']);
    // Identity is the mean of the two verifications.
    expect(detail.body.scores.identity).toBeCloseTo((same.body.identityScore + other.body.identityScore) / 2, 0);
    // The mismatching frame is kept as evidence; the matching one is not.
    const kept = await t.deps.blobs.get(`sessions/${session.sessionId}/face/verify-${detail.body.violations[0].id}.img`);
    expect(kept?.length).toBe(photo('images/alex_lacamoire/1.jpg').length);

    await t.deps.dispatcher.runOnce();
    const types = receiver.payloads().map((p) => p.type);
    expect(types).toEqual(['session.started', 'violation.detected', 'session.stopped', 'score.submitted']);
    expect(receiver.payloads()[1]).toMatchObject({ violation: { type: 'identity_mismatch', severity: 'critical' } });
    expect(receiver.payloads()[2]).toMatchObject({ stopReason: 'auto:critical', status: 'stopped' });
    for (const r of receiver.received) expect(() => new Webhook(integration.webhookSecret).verify(r.body, r.headers)).not.toThrow();

    const late = await verify(token, photo('images/barack_obama/2.jpg'));
    expect(late.status).toBe(409);
  }, 60_000);

  it('raises multiple_faces from a verification frame with two people', async () => {
    const integration = await createIntegration(t);
    const session = await createSession(t, integration.apiKey);
    expect((await enroll(session.sessionToken, photo('images/barack_obama/1.jpg'))).status).toBe(200);
    await t.call('POST', '/api/widget/session/start', { token: session.sessionToken });
    const res = await verify(session.sessionToken, photo('multi/face_recognition_two_people.jpg'));
    expect(res.status).toBe(200);
    expect(res.body.facesDetected).toBeGreaterThanOrEqual(2);
    expect(res.body.match).toBeUndefined();
    expect(res.body).toMatchObject({ violation: { type: 'multiple_faces', severity: 'medium' }, status: 'in_progress', autoStopped: false });
    const me = await t.call('GET', '/api/widget/session', { token: session.sessionToken });
    expect(me.body).toMatchObject({ status: 'in_progress', violationCounts: { medium: 1 } });
    const none = await verify(session.sessionToken, photo('noface/skimage_coffee.png'));
    expect(none.body).toMatchObject({ facesDetected: 0, violation: null, status: 'in_progress', stopReason: null, autoStopped: false });
    expect(none.body.match).toBeUndefined();
  }, 60_000);

  it('refuses bad enrollment photos with clear errors and stays unenrolled', async () => {
    const integration = await createIntegration(t);
    const { sessionToken: token } = await createSession(t, integration.apiKey);
    const jpeg = photo('images/barack_obama/1.jpg');
    const cases: [Uint8Array | string, number, string][] = [
      [photo('multi/face_recognition_two_people.jpg'), 422, 'multiple_faces'],
      [photo('noface/skimage_rocket.jpg'), 422, 'no_face'],
      ['%%% this is not base64 %%%', 400, 'invalid_image'],
      [Buffer.from('hello, I am not an image at all'), 400, 'invalid_image'],
      [jpeg.subarray(0, Math.floor(jpeg.length / 3)), 400, 'invalid_image'],
      [pngHeader(20_000, 20_000), 400, 'invalid_image'],
      [await sharp(jpeg).blur(12).jpeg().toBuffer(), 422, 'image_too_blurry'],
      [
        await sharp({ create: { width: 640, height: 480, channels: 3, background: '#ffffff' } })
          .composite([{ input: await sharp(jpeg).resize({ width: 100 }).toBuffer(), left: 8, top: 8 }])
          .jpeg()
          .toBuffer(),
        422,
        'face_too_small',
      ],
    ];
    for (const [image, status, code] of cases) {
      const res = await t.call('POST', '/api/widget/session/face-enroll', {
        token,
        body: { imageBase64: typeof image === 'string' ? image : b64(image), source: 'upload' },
      });
      expect(res.status, code).toBe(status);
      expect(res.body.error.code).toBe(code);
    }
    const me = await t.call('GET', '/api/widget/session', { token });
    expect(me.body.enrollment.status).toBe('none');
    expect((await t.call('POST', '/api/widget/session/start', { token })).body.error.code).toBe('enrollment_required');
  }, 60_000);

  it('refuses an image over the size cap with 413', async () => {
    await t.close();
    t = await makeTestApp({ faceEngine: engine, config: { maxImageBytes: 50_000 } });
    const integration = await createIntegration(t);
    const { sessionToken } = await createSession(t, integration.apiKey);
    const res = await enroll(sessionToken, photo('images/barack_obama/1.jpg'));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('allows re-enrollment before the start only', async () => {
    const integration = await createIntegration(t);
    const { sessionToken: token } = await createSession(t, integration.apiKey);
    expect((await enroll(token, photo('images/alex_lacamoire/1.jpg'))).status).toBe(200);
    expect((await enroll(token, photo('images/barack_obama/1.jpg'))).status).toBe(200);
    await t.call('POST', '/api/widget/session/start', { token });
    const again = await enroll(token, photo('images/barack_obama/2.jpg'));
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('enrollment_closed');
    // The second enrollment is the one in force.
    expect((await verify(token, photo('images/barack_obama/2.jpg'))).body.match).toBe(true);
  }, 60_000);

  it('enrolls from facePhotoUrl at creation when private URLs are allowed, and refuses it otherwise', async () => {
    const integration = await createIntegration(t);
    const created = await t.call('POST', '/api/widget/sessions', {
      token: integration.apiKey,
      body: { externalUserId: 'student-1', facePhotoUrl: `${photoBase}/john.jpg` },
    });
    expect(created.status).toBe(201);
    expect(created.body.enrollment).toEqual({ status: 'enrolled' });
    expect((await t.call('POST', '/api/widget/session/start', { token: created.body.sessionToken })).status).toBe(200);
    const detail = await t.call('GET', `/api/widget/sessions/${created.body.sessionId}`, { token: integration.apiKey });
    expect(detail.body.enrollment).toMatchObject({ status: 'enrolled', source: 'url' });

    const missing = await t.call('POST', '/api/widget/sessions', {
      token: integration.apiKey,
      body: { externalUserId: 'student-2', facePhotoUrl: `${photoBase}/nobody.jpg` },
    });
    expect(missing.body.enrollment).toEqual({ status: 'failed', reason: 'photo_fetch_failed' });

    const strict = await makeTestApp({ faceEngine: engine, allowPrivateUrls: false });
    try {
      const key = (await createIntegration(strict)).apiKey;
      for (const url of [`${photoBase}/john.jpg`, 'http://169.254.169.254/latest/meta-data/']) {
        const res = await strict.call('POST', '/api/widget/sessions', { token: key, body: { externalUserId: 'student-3', facePhotoUrl: url } });
        expect(res.status).toBe(201);
        expect(res.body.enrollment).toEqual({ status: 'failed', reason: 'photo_url_not_allowed' });
        // The session stays usable with the widget's own enrollment flow.
        const enrolledByWidget = await strict.call('POST', '/api/widget/session/face-enroll', {
          token: res.body.sessionToken,
          body: { imageBase64: b64(photo('images/barack_obama/1.jpg')), source: 'webcam' },
        });
        expect(enrolledByWidget.status).toBe(200);
      }
    } finally {
      await strict.close();
    }
  }, 60_000);

  it('reports the engine in /api/health', async () => {
    const res = await t.call('GET', '/api/health');
    expect(res.body).toMatchObject({ status: 'ok', faceEngine: 'ready' });
  });
});
