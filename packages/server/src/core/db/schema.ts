import type { Generated } from 'kysely';

/** Times are epoch milliseconds; JSON columns hold text. Portable across SQLite, Postgres and D1. */
export interface IntegrationsTable {
  id: string;
  name: string;
  webhook_url: string | null;
  allowed_origins: string; // JSON string[]
  retention_days: number;
  default_session_config: string; // JSON SessionConfigInput
  api_key_hash: string;
  api_key_prefix: string;
  webhook_secret_sealed: string;
  created_at: number;
  updated_at: number;
}

export interface SessionsTable {
  id: string;
  integration_id: string;
  token_hash: string;
  external_user_id: string | null;
  external_assessment_id: string | null;
  user_name: string | null;
  user_email: string | null;
  assessment_title: string | null;
  assessment_type: 'recording' | 'live' | 'hybrid';
  face_photo_url: string | null;
  config: string; // JSON SessionConfig
  status: 'created' | 'in_progress' | 'completed' | 'stopped' | 'expired';
  stop_reason: string | null;
  stop_note: string | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  expires_at: number;
  erased_at: number | null;
  consent_at: number | null;
  /** SHA-256 (hex) of the consent text the candidate accepted (migration 0002). */
  consent_text_sha256: string | null;
  enrollment_status: 'none' | 'pending' | 'enrolled' | 'failed';
  enrollment_source: 'webcam' | 'upload' | 'url' | null;
  enrollment_reason: string | null;
  enrolled_at: number | null;
  // Running score state (kept incrementally so each event costs one row update).
  identity_sum: number;
  identity_count: number;
  monitored_ms: number;
  one_face_ms: number;
  last_sample_at: number | null;
  last_sample_faces: number | null;
  absent_since: number | null;
  absent_extended_raised: number; // 0 | 1
  multi_since: number | null;
  multi_raised: number; // 0 | 1
  count_low: number;
  count_medium: number;
  count_high: number;
  count_critical: number;
  behavioral_low: number;
  behavioral_medium: number;
  behavioral_high: number;
  behavioral_critical: number;
  score_overall: number;
  score_identity: number;
  score_presence: number;
  score_behavioral: number;
  client_score: string | null; // JSON
  client_score_at: number | null;
}

export interface ViolationsTable {
  id: string;
  session_id: string;
  client_id: string;
  type: string;
  category: string;
  severity: string;
  source: 'client' | 'server';
  occurred_at: number;
  received_at: number;
  duration_ms: number | null;
  details: string | null; // JSON
}

export interface ScorePointsTable {
  seq: Generated<number>;
  session_id: string;
  at: number;
  overall: number;
  identity: number;
  presence: number;
  behavioral: number;
}

export interface MessagesTable {
  seq: Generated<number>;
  id: string;
  session_id: string;
  sender_role: 'candidate' | 'proctor';
  body: string;
  created_at: number;
}

export interface DocumentsTable {
  id: string;
  session_id: string;
  uploaded_by: 'candidate' | 'proctor';
  file_name: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  blob_key: string;
  created_at: number;
}

/** One uploaded segment of a session's recording; the bytes are in the blob store under `blob_key`. */
export interface RecordingSegmentsTable {
  session_id: string;
  sequence: number;
  blob_key: string;
  sha256: string;
  bytes: number;
  duration_ms: number;
  started_at: number;
  content_type: 'video/webm' | 'video/mp4';
  created_at: number;
}

export interface WebhookOutboxTable {
  seq: Generated<number>;
  id: string;
  integration_id: string;
  session_id: string | null;
  event_type: string;
  payload: string; // JSON
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** Attempts made before the current retry schedule began: 0, or the count at the last manual redelivery. */
  retry_base: Generated<number>;
  next_attempt_at: number | null;
  locked_until: number | null;
  last_status_code: number | null;
  last_error: string | null;
  last_url: string | null;
  created_at: number;
  delivered_at: number | null;
}

export interface WebhookAttemptsTable {
  seq: Generated<number>;
  delivery_id: string;
  attempt: number;
  at: number;
  url: string | null;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

export interface IdempotencyKeysTable {
  integration_id: string;
  key: string;
  request_hash: string;
  session_id: string;
  response_sealed: string;
  created_at: number;
}

/** A signed-in proctor console (migration 0003): an HttpOnly cookie whose token is stored only as its hash. */
export interface ConsoleSessionsTable {
  id: string;
  token_hash: string;
  integration_id: string;
  created_at: number;
  expires_at: number;
}

export interface Database {
  integrations: IntegrationsTable;
  sessions: SessionsTable;
  violations: ViolationsTable;
  score_points: ScorePointsTable;
  messages: MessagesTable;
  documents: DocumentsTable;
  recording_segments: RecordingSegmentsTable;
  webhook_outbox: WebhookOutboxTable;
  webhook_attempts: WebhookAttemptsTable;
  idempotency_keys: IdempotencyKeysTable;
  console_sessions: ConsoleSessionsTable;
}
