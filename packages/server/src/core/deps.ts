import type { Context } from 'hono';
import type { Kysely } from 'kysely';
import type { SecretBox } from './crypto.ts';
import type { Database } from './db/schema.ts';
import type { BlobStore, Clock, CredentialHasher, EventBus, FaceEngine, Logger, OutboundHttp, StaticAssets } from './ports.ts';
import type { RateLimiter } from './rate-limit.ts';

export interface AppConfig {
  /** When set, `POST /api/integrations` requires `Authorization: Bearer <adminToken>`. */
  adminToken: string | undefined;
  /** Creations of integrations allowed per client address per window. */
  integrationCreateLimit: { max: number; windowMs: number };
  /** Console sign-in attempts allowed per client address per window. */
  consoleLoginLimit: { max: number; windowMs: number };
  /** Largest document accepted, in bytes (413 above). */
  maxDocumentBytes: number;
  /** Largest recording segment accepted, in bytes (413 above). */
  maxRecordingSegmentBytes: number;
  /** Largest JSON body on ordinary endpoints, in bytes. */
  maxJsonBytes: number;
  /** Largest image body for face-enroll / verify-identity, in bytes. */
  maxImageBytes: number;
  /** Delay before each webhook attempt after the first, in ms; its length is the number of retries. */
  webhookRetryScheduleMs: number[];
  /** Time allowed to fetch a session's facePhotoUrl, redirects included. */
  photoFetchTimeoutMs: number;
  /** Time allowed for one webhook request. */
  webhookTimeoutMs: number;
  /** How long a session token stays valid after creation when the session is not started. */
  startWindowMs: number;
  /** Validity of a started session's token beyond maxDurationMinutes. */
  tokenGraceMs: number;
  /** Server version reported by /api/health. */
  version: string;
  /** Interval of the comment heartbeat on live event streams (keeps proxies from closing them). */
  sseHeartbeatMs: number;
}

export interface WebhookNotifier {
  /** Tells the dispatcher that new deliveries are due; it may deliver later. */
  poke(): void;
}

export interface AppDeps {
  db: Kysely<Database>;
  blobs: BlobStore;
  /** Null until a face engine is configured; face endpoints then answer 503. */
  faceEngine: FaceEngine | null;
  outbound: OutboundHttp;
  bus: EventBus;
  secrets: SecretBox;
  /** Hashes credentials on every authenticated request (`webCryptoHasher` where nothing faster exists). */
  hasher: CredentialHasher;
  clock: Clock;
  logger: Logger;
  config: AppConfig;
  rateLimiter: RateLimiter;
  webhooks: WebhookNotifier;
  /** The built widget (script, lazy chunks, models); without it those paths answer 503 `widget_not_built`. */
  staticAssets?: StaticAssets;
  /** The built proctor console (apps/console/dist); without it /console/assets/* answer 503 `console_not_built`. */
  consoleAssets?: StaticAssets;
  /** The calling client's address, as the runtime sees it (for rate limits). */
  clientAddress(c: Context): string;
}

export const DEFAULT_CONFIG: AppConfig = {
  adminToken: undefined,
  integrationCreateLimit: { max: 20, windowMs: 60 * 60 * 1000 },
  consoleLoginLimit: { max: 30, windowMs: 10 * 60 * 1000 },
  maxDocumentBytes: 10 * 1024 * 1024,
  maxRecordingSegmentBytes: 16 * 1024 * 1024,
  maxJsonBytes: 256 * 1024,
  maxImageBytes: 8 * 1024 * 1024,
  // Standard Webhooks' suggested schedule: about 27 hours in all.
  webhookRetryScheduleMs: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
  webhookTimeoutMs: 10_000,
  photoFetchTimeoutMs: 10_000,
  startWindowMs: 24 * 60 * 60 * 1000,
  tokenGraceMs: 30 * 60 * 1000,
  version: '0.1.0',
  sseHeartbeatMs: 15_000,
};
