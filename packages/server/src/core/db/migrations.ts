import { type Kysely, type Migration, type MigrationProvider } from 'kysely';

/**
 * Migrations in code, so every runtime (Node, Workers) ships them without a file system. Column types
 * are chosen to mean the same on SQLite and Postgres: `bigint` for epoch-ms times, `text` for JSON.
 */
const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('integrations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('webhook_url', 'text')
        .addColumn('allowed_origins', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('retention_days', 'integer', (c) => c.notNull().defaultTo(30))
        .addColumn('default_session_config', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('api_key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('api_key_prefix', 'text', (c) => c.notNull())
        .addColumn('webhook_secret_sealed', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id'))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('external_user_id', 'text')
        .addColumn('external_assessment_id', 'text')
        .addColumn('user_name', 'text')
        .addColumn('user_email', 'text')
        .addColumn('assessment_title', 'text')
        .addColumn('assessment_type', 'text', (c) => c.notNull())
        .addColumn('face_photo_url', 'text')
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('stop_reason', 'text')
        .addColumn('stop_note', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('ended_at', 'bigint')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('erased_at', 'bigint')
        .addColumn('consent_at', 'bigint')
        .addColumn('enrollment_status', 'text', (c) => c.notNull().defaultTo('none'))
        .addColumn('enrollment_source', 'text')
        .addColumn('enrollment_reason', 'text')
        .addColumn('enrolled_at', 'bigint')
        .addColumn('identity_sum', 'double precision', (c) => c.notNull().defaultTo(0))
        .addColumn('identity_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('monitored_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('one_face_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('last_sample_at', 'bigint')
        .addColumn('last_sample_faces', 'integer')
        .addColumn('absent_since', 'bigint')
        .addColumn('absent_extended_raised', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('multi_since', 'bigint')
        .addColumn('multi_raised', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('count_low', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('count_medium', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('count_high', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('count_critical', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('behavioral_low', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('behavioral_medium', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('behavioral_high', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('behavioral_critical', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('score_overall', 'double precision', (c) => c.notNull().defaultTo(0))
        .addColumn('score_identity', 'double precision', (c) => c.notNull().defaultTo(0))
        .addColumn('score_presence', 'double precision', (c) => c.notNull().defaultTo(100))
        .addColumn('score_behavioral', 'double precision', (c) => c.notNull().defaultTo(100))
        .addColumn('client_score', 'text')
        .addColumn('client_score_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('sessions_integration_created')
        .on('sessions')
        .columns(['integration_id', 'created_at', 'id'])
        .execute();
      await db.schema.createIndex('sessions_status_expires').on('sessions').columns(['status', 'expires_at']).execute();

      await db.schema
        .createTable('violations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id'))
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('category', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('duration_ms', 'bigint')
        .addColumn('details', 'text')
        .addUniqueConstraint('violations_session_client', ['session_id', 'client_id'])
        .execute();

      await db.schema
        .createTable('score_points')
        .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id'))
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('overall', 'double precision', (c) => c.notNull())
        .addColumn('identity', 'double precision', (c) => c.notNull())
        .addColumn('presence', 'double precision', (c) => c.notNull())
        .addColumn('behavioral', 'double precision', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('score_points_session').on('score_points').columns(['session_id', 'seq']).execute();

      await db.schema
        .createTable('messages')
        .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id'))
        .addColumn('sender_role', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('messages_session').on('messages').columns(['session_id', 'seq']).execute();

      await db.schema
        .createTable('documents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id'))
        .addColumn('uploaded_by', 'text', (c) => c.notNull())
        .addColumn('file_name', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('blob_key', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('documents_session').on('documents').columns(['session_id', 'created_at']).execute();

      await db.schema
        .createTable('webhook_outbox')
        .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id'))
        .addColumn('session_id', 'text')
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        // Attempts made before the current retry schedule began (reset by a manual redelivery).
        .addColumn('retry_base', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint')
        .addColumn('locked_until', 'bigint')
        .addColumn('last_status_code', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('last_url', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('webhook_outbox_due')
        .on('webhook_outbox')
        .columns(['status', 'next_attempt_at'])
        .execute();
      await db.schema
        .createIndex('webhook_outbox_integration')
        .on('webhook_outbox')
        .columns(['integration_id', 'seq'])
        .execute();

      await db.schema
        .createTable('webhook_attempts')
        .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('delivery_id', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('url', 'text')
        .addColumn('status_code', 'integer')
        .addColumn('error', 'text')
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('webhook_attempts_delivery')
        .on('webhook_attempts')
        .columns(['delivery_id', 'attempt'])
        .execute();

      await db.schema
        .createTable('idempotency_keys')
        .addColumn('integration_id', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('response_sealed', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['integration_id', 'key'])
        .execute();
    },
  },
  '0002_recording': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('sessions').addColumn('consent_text_sha256', 'text').execute();
      await db.schema
        .createTable('recording_segments')
        .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id'))
        .addColumn('sequence', 'integer', (c) => c.notNull())
        .addColumn('blob_key', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addColumn('duration_ms', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('recording_segments_pk', ['session_id', 'sequence'])
        .execute();
    },
  },
  '0003_console': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('console_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('integration_id', 'text', (c) => c.notNull().references('integrations.id'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('console_sessions_expires').on('console_sessions').column('expires_at').execute();
      await db.schema.createIndex('console_sessions_integration').on('console_sessions').column('integration_id').execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
