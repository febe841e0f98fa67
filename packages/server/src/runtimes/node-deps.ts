import { getConnInfo } from '@hono/node-server/conninfo';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConsoleLogger } from '../adapters/console-logger.ts';
import { FsBlobStore } from '../adapters/fs-blob-store.ts';
import { FsStaticAssets } from '../adapters/fs-static-assets.ts';
import { nodeHasher } from '../adapters/node-hasher.ts';
import { NodeOutboundHttp } from '../adapters/node-outbound.ts';
import { openSqlite } from '../adapters/sqlite.ts';
import { MemoryEventBus } from '../core/bus.ts';
import { base64Decode, base64Encode, randomBytes, SecretBox } from '../core/crypto.ts';
import { DEFAULT_CONFIG, type AppConfig, type AppDeps } from '../core/deps.ts';
import type { Clock, FaceEngine, Logger } from '../core/ports.ts';
import { MemoryRateLimiter } from '../core/rate-limit.ts';
import { WebhookDispatcher } from '../core/webhooks/dispatcher.ts';

export interface NodeDepsOptions {
  /** Directory for the SQLite database, blobs and the master key; `null` keeps everything in memory/temp. */
  dataDir: string;
  /** `:memory:` for an in-memory database (tests); otherwise `<dataDir>/secureaccess.db`. */
  databaseFile?: string;
  allowPrivateUrls?: boolean;
  config?: Partial<AppConfig>;
  faceEngine?: FaceEngine | null;
  clock?: Clock;
  logger?: Logger;
  /** 32-byte master key; otherwise SECUREACCESS_MASTER_KEY or `<dataDir>/master.key` (created on first start). */
  masterKey?: Uint8Array;
  /** Directory of the built widget served at /secureaccess-widget.js and /widget/*; defaults to packages/widget/dist. */
  widgetDir?: string;
  /** Directory of the built proctor console served at /console/assets/*; defaults to apps/console/dist. */
  consoleDir?: string;
}

/** packages/widget/dist, found from this file (packages/server/src/runtimes). */
export const DEFAULT_WIDGET_DIR = fileURLToPath(new URL('../../../widget/dist', import.meta.url));
/** apps/console/dist, found from this file (packages/server/src/runtimes). */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../../../apps/console/dist', import.meta.url));

export interface NodeRuntimeDeps extends AppDeps {
  dispatcher: WebhookDispatcher;
  outbound: NodeOutboundHttp;
  bus: MemoryEventBus;
  close(): Promise<void>;
}

/** Loads the master key that seals webhook secrets and idempotent replies, creating it on first start. */
async function loadMasterKey(dataDir: string): Promise<Uint8Array> {
  const fromEnv = process.env.SECUREACCESS_MASTER_KEY;
  if (fromEnv) {
    const key = base64Decode(fromEnv);
    if (!key || key.length !== 32) throw new Error('SECUREACCESS_MASTER_KEY must be 32 bytes, base64-encoded.');
    return key;
  }
  const file = join(dataDir, 'master.key');
  if (existsSync(file)) {
    const key = base64Decode((await readFile(file, 'utf8')).trim());
    if (!key || key.length !== 32) throw new Error(`${file} is corrupt: expected 32 bytes, base64-encoded.`);
    return key;
  }
  const key = randomBytes(32);
  await writeFile(file, base64Encode(key) + '\n', { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  return key;
}

/** Wires the embedded default: SQLite + local disk + in-process bus, dispatcher and rate limiter. */
export async function createNodeDeps(options: NodeDepsOptions): Promise<NodeRuntimeDeps> {
  await mkdir(options.dataDir, { recursive: true });
  const logger = options.logger ?? new ConsoleLogger();
  const sqlite = await openSqlite(options.databaseFile ?? join(options.dataDir, 'secureaccess.db'), logger);
  const db = sqlite.db;
  const secrets = await SecretBox.fromKeyBytes(options.masterKey ?? (await loadMasterKey(options.dataDir)));
  const outbound = new NodeOutboundHttp(options.allowPrivateUrls ?? false);
  const bus = new MemoryEventBus();
  const deps = {
    db,
    blobs: new FsBlobStore(join(options.dataDir, 'blobs')),
    faceEngine: options.faceEngine ?? null,
    outbound,
    bus,
    secrets,
    hasher: nodeHasher,
    clock: options.clock ?? { now: () => Date.now() },
    logger,
    config: { ...DEFAULT_CONFIG, ...options.config },
    rateLimiter: new MemoryRateLimiter(),
    webhooks: { poke: () => dispatcher.poke() },
    staticAssets: new FsStaticAssets(options.widgetDir ?? DEFAULT_WIDGET_DIR),
    consoleAssets: new FsStaticAssets(options.consoleDir ?? DEFAULT_CONSOLE_DIR),
    clientAddress: (c) => {
      try {
        return getConnInfo(c).remote.address ?? 'unknown';
      } catch {
        return 'unknown';
      }
    },
  } satisfies AppDeps as AppDeps;
  const dispatcher = new WebhookDispatcher(deps);
  return {
    ...deps,
    dispatcher,
    outbound,
    bus,
    async close() {
      await dispatcher.stop();
      await outbound.close();
      await sqlite.close();
    },
  };
}

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}.`);
  return value;
}

/** Reads the operator's settings from the environment (documented in the README). */
export function configFromEnv(): Partial<AppConfig> & {
  allowPrivateUrls: boolean;
  faceEngine: { enabled: boolean; workers: number | undefined };
} {
  const schedule = process.env.SECUREACCESS_WEBHOOK_RETRY_SCHEDULE_MS;
  const engine = process.env.SECUREACCESS_FACE_ENGINE ?? 'on';
  if (engine !== 'on' && engine !== 'off') throw new Error(`SECUREACCESS_FACE_ENGINE must be "on" or "off", got ${JSON.stringify(engine)}.`);
  const workers = process.env.SECUREACCESS_FACE_WORKERS ? intFromEnv('SECUREACCESS_FACE_WORKERS', 1) : undefined;
  if (workers !== undefined && (workers < 1 || !Number.isInteger(workers))) throw new Error('SECUREACCESS_FACE_WORKERS must be a whole number ≥ 1.');
  return {
    faceEngine: { enabled: engine === 'on', workers },
    adminToken: process.env.SECUREACCESS_ADMIN_TOKEN || undefined,
    allowPrivateUrls: process.env.SECUREACCESS_ALLOW_PRIVATE_URLS === 'true',
    maxDocumentBytes: intFromEnv('SECUREACCESS_MAX_DOCUMENT_BYTES', DEFAULT_CONFIG.maxDocumentBytes),
    maxRecordingSegmentBytes: intFromEnv('SECUREACCESS_MAX_SEGMENT_BYTES', DEFAULT_CONFIG.maxRecordingSegmentBytes),
    webhookTimeoutMs: intFromEnv('SECUREACCESS_WEBHOOK_TIMEOUT_MS', DEFAULT_CONFIG.webhookTimeoutMs),
    integrationCreateLimit: {
      max: intFromEnv('SECUREACCESS_INTEGRATION_CREATE_LIMIT', DEFAULT_CONFIG.integrationCreateLimit.max),
      windowMs: DEFAULT_CONFIG.integrationCreateLimit.windowMs,
    },
    consoleLoginLimit: {
      max: intFromEnv('SECUREACCESS_CONSOLE_LOGIN_LIMIT', DEFAULT_CONFIG.consoleLoginLimit.max),
      windowMs: DEFAULT_CONFIG.consoleLoginLimit.windowMs,
    },
    ...(schedule
      ? {
          webhookRetryScheduleMs: schedule.split(',').map((part) => {
            const value = Number(part.trim());
            if (!Number.isFinite(value) || value < 0) throw new Error('SECUREACCESS_WEBHOOK_RETRY_SCHEDULE_MS must be a comma-separated list of milliseconds.');
            return value;
          }),
        }
      : {}),
  };
}
