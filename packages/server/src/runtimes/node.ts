import { serve, type ServerType } from '@hono/node-server';
import { createDemoApp } from '@secureaccess/demo';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createApp } from '../core/app.ts';
import { expireOverdueSessions } from '../core/sessions/service.ts';
import { purgeExpiredPersonalData } from '../core/sessions/erase.ts';
import { WorkerFaceEngine } from '../adapters/face-engine.ts';
import { nodeRequestEnv } from '../adapters/node-body.ts';
import { describeDemoIntegration, ensureDemoIntegration, type DemoIntegration } from './demo-integration.ts';
import { configFromEnv, createNodeDeps, type NodeRuntimeDeps } from './node-deps.ts';
import type { AppConfig } from '../core/deps.ts';
import type { Logger } from '../core/ports.ts';

export interface RunningServer {
  url: string;
  port: number;
  deps: NodeRuntimeDeps;
  /** The demo exam's integration (null when the demo is off). */
  demo: DemoIntegration | null;
  close(): Promise<void>;
}

/** How this process reaches its own API over HTTP: the bound address, loopback when bound to all interfaces. */
function selfUrl(address: AddressInfo): string {
  const any = address.address === '0.0.0.0' || address.address === '::' || address.address === '';
  const host = any ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/**
 * The embedded default runtime: one Node process, SQLite + local disk. Starts the HTTP server, the
 * webhook dispatcher and the periodic sweeps (session expiry every 15 s, retention hourly).
 */
export async function startNodeServer(options: {
  port: number;
  host?: string;
  dataDir: string;
  /** Called as the face models load (the API answers 503 face_engine_loading until then). */
  onFaceEngine?: (event: { state: 'loading' } | { state: 'ready'; ms: number } | { state: 'failed'; error: string } | { state: 'disabled' }) => void;
  /** Embedding/test overrides; each wins over what `configFromEnv()` reads from the environment. */
  logger?: Logger;
  allowPrivateUrls?: boolean;
  config?: Partial<AppConfig>;
  faceEngine?: { enabled?: boolean; workers?: number };
  /**
   * Serve the demo exam at /demo (default true): its integration is created on first start and kept in
   * `<dataDir>/demo-integration.json`.
   */
  demo?: boolean;
}): Promise<RunningServer> {
  const { allowPrivateUrls: privateFromEnv, faceEngine: engineFromEnv, ...configFromEnvironment } = configFromEnv();
  const allowPrivateUrls = options.allowPrivateUrls ?? privateFromEnv;
  const config = { ...configFromEnvironment, ...options.config };
  const faceEngineSettings = { ...engineFromEnv, ...options.faceEngine };
  const faceEngine = faceEngineSettings.enabled ? await WorkerFaceEngine.start({ workers: faceEngineSettings.workers }) : null;
  const report = options.onFaceEngine ?? (() => undefined);
  if (faceEngine) {
    const started = Date.now();
    report({ state: 'loading' });
    faceEngine.whenReady().then(
      () => report({ state: 'ready', ms: Date.now() - started }),
      (error: unknown) => report({ state: 'failed', error: error instanceof Error ? error.message : String(error) }),
    );
  } else {
    report({ state: 'disabled' });
  }
  const deps = await createNodeDeps({ dataDir: options.dataDir, allowPrivateUrls, config, faceEngine, logger: options.logger });
  const { app } = createApp(deps);
  // The demo LMS calls the API over HTTP like any LMS; the address is known once the server listens.
  let apiBaseUrl = '';
  const demo = options.demo === false ? null : await ensureDemoIntegration(deps, options.dataDir);
  if (demo) app.route('/demo', createDemoApp({ apiBaseUrl: () => apiBaseUrl, apiKey: demo.apiKey, clientAddress: deps.clientAddress }));
  deps.dispatcher.start();

  const sweep = (name: string, work: () => Promise<number>) => async () => {
    try {
      const n = await work();
      if (n > 0) deps.logger.info(`${name}`, { count: n });
    } catch (error) {
      deps.logger.error(`${name} failed`, { error: String(error) });
    }
  };
  const expiry = setInterval(sweep('sessions expired', () => expireOverdueSessions(deps)), 15_000);
  const retention = setInterval(sweep('personal data purged', () => purgeExpiredPersonalData(deps)), 3_600_000);
  void sweep('personal data purged', () => purgeExpiredPersonalData(deps))();

  const server = await new Promise<ServerType>((resolveServer, reject) => {
    const s = serve({ fetch: (request, env) => app.fetch(request, nodeRequestEnv(env)), port: options.port, hostname: options.host }, () => resolveServer(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  apiBaseUrl = typeof address === 'object' && address ? selfUrl(address) : `http://127.0.0.1:${port}`;
  return {
    url: `http://localhost:${port}`,
    port,
    deps,
    demo,
    async close() {
      clearInterval(expiry);
      clearInterval(retention);
      await new Promise<void>((done) => server.close(() => done()));
      await deps.close();
      await faceEngine?.close();
    },
  };
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 8787);
  const dataDir = resolve(process.env.SECUREACCESS_DATA_DIR ?? './data');
  const demoSetting = process.env.SECUREACCESS_DEMO || 'on';
  if (demoSetting !== 'on' && demoSetting !== 'off') throw new Error(`SECUREACCESS_DEMO must be "on" or "off", got ${JSON.stringify(demoSetting)}.`);
  const running = await startNodeServer({
    port,
    host: process.env.HOST,
    dataDir,
    demo: demoSetting === 'on',
    onFaceEngine(event) {
      if (event.state === 'loading') process.stdout.write('Loading face models in worker threads…\n');
      else if (event.state === 'ready') process.stdout.write(`Face models ready (${(event.ms / 1000).toFixed(1)} s).\n`);
      else if (event.state === 'failed') process.stdout.write(`Face models failed to load: ${event.error}\nFace enrollment and verification answer 503 until restart.\n`);
      else process.stdout.write('Face engine disabled (SECUREACCESS_FACE_ENGINE=off): face endpoints answer 503.\n');
    },
  });
  process.stdout.write(
    [
      `SecureAccess is running on ${running.url}`,
      ...(running.demo ? [`  Demo exam:       ${running.url}/demo`] : []),
      `  Proctor console: ${running.url}/console`,
      `  API reference:   ${running.url}/api/docs`,
      `  API health:      ${running.url}/api/health`,
      `  Data directory:  ${dataDir}`,
      '',
      ...(running.demo ? [...describeDemoIntegration(running.demo), ''] : []),
      'Create an integration for your own LMS (its API key is shown once):',
      `  curl -X POST ${running.url}/api/integrations -H "Content-Type: application/json" -d '{"name": "My LMS"}'`,
      '',
    ].join('\n'),
  );
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    running.deps.logger.info('shutting down', { signal });
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`SecureAccess failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
