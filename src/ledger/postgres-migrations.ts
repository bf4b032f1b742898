// Numbered PostgreSQL migrations: same numbers and meaning as sqlite-migrations.ts (6, the shared
// Knack rate slots, is PostgreSQL only; versions are applied by set, not by count). Run at open
// under a session advisory lock, so replicas starting together migrate once and the others wait.
import type pg from 'pg'
import type { Logger } from 'pino'
import type { Migration } from './sqlite-migrations.js'

const PENDING = `('queued', 'sending', 'esb_accepted', 'failed')`

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'deliveries',
    sql: `
      CREATE TABLE deliveries (
        id bigserial PRIMARY KEY,
        app text NOT NULL,
        record_id text NOT NULL,
        sr_number text NOT NULL,
        atd_activity_id bigint NOT NULL,
        content_hash text NOT NULL,
        -- app|record|hash for 'once' rows, NULL for resend rows (NULLs never collide).
        dedupe_key text UNIQUE,
        source text NOT NULL CHECK (source IN ('webhook', 'resend', 'sweep', 'retry')),
        record jsonb NOT NULL,
        status text NOT NULL
          CHECK (status IN ('queued', 'sending', 'esb_accepted', 'sent', 'skipped', 'failed', 'dead')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        lease_owner text,
        lease_until timestamptz,
        last_error text,
        esb_response text,
        esb_accepted_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      );
      CREATE INDEX deliveries_content ON deliveries (app, record_id, content_hash);
      CREATE INDEX deliveries_sr_pending ON deliveries (app, sr_number, atd_activity_id, id)
        WHERE status IN ${PENDING};
      CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ${PENDING};
      CREATE INDEX deliveries_status ON deliveries (status, id);
      CREATE INDEX deliveries_app ON deliveries (app, id);
    `
  },
  {
    version: 2,
    name: 'attempts',
    sql: `
      CREATE TABLE attempts (
        id bigserial PRIMARY KEY,
        delivery_id bigint NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
        n integer NOT NULL,
        step text NOT NULL CHECK (step IN ('esb', 'knack', 'build')),
        outcome text NOT NULL,
        detail text,
        started_at timestamptz NOT NULL,
        finished_at timestamptz NOT NULL
      );
      CREATE INDEX attempts_delivery ON attempts (delivery_id, id);
    `
  },
  {
    version: 3,
    name: 'leased rows by service request',
    // Only deliveries in flight hold a lease: "is this SR busy" looks at those few, not the backlog.
    sql: `
      CREATE INDEX deliveries_sr_leased ON deliveries (app, sr_number, lease_until) WHERE lease_until IS NOT NULL;
    `
  },
  {
    version: 4,
    name: 'replay source and possible duplicates',
    sql: `
      ALTER TABLE deliveries DROP CONSTRAINT deliveries_source_check;
      ALTER TABLE deliveries ADD CONSTRAINT deliveries_source_check
        CHECK (source IN ('webhook', 'resend', 'sweep', 'retry', 'replay'));
      -- true once an attempt timed out after its body was sent and a later one was accepted.
      ALTER TABLE deliveries ADD COLUMN possible_duplicate boolean NOT NULL DEFAULT false;
    `
  },
  {
    version: 5,
    name: 'esb gate',
    // One row: whether sending to the ESB is paused, the failure streaks that lead there, and the
    // probe slot, shared by every replica (src/worker/esb-gate.ts); changed under its row lock.
    sql: `
      CREATE TABLE esb_gate (
        id integer PRIMARY KEY CHECK (id = 1),
        state text NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'paused')),
        since timestamptz,
        cause text CHECK (cause IS NULL OR cause IN ('endpoint', 'record', 'credentials')),
        last_error text,
        endpoint_failures integer NOT NULL DEFAULT 0,
        -- delivery ids
        record_failures jsonb NOT NULL DEFAULT '[]',
        probe_at timestamptz,
        updated_at timestamptz
      );
      INSERT INTO esb_gate (id) VALUES (1);
    `
  },
  {
    version: 6,
    name: 'knack rate slots',
    // The per-app Knack limit shared by every replica (src/clients/knack/shared-limiter.ts): one
    // row per allowed request per window; a grant moves a free row's busy_until past now + one
    // window. Rows are created on demand for slots 0..rate-1. PostgreSQL only: on SQLite there is
    // one process and the in-process limiter, so SQLite has no version 6.
    sql: `
      CREATE TABLE knack_rate_slots (
        app_id text NOT NULL,
        slot integer NOT NULL CHECK (slot >= 0),
        busy_until timestamptz NOT NULL DEFAULT 'epoch',
        PRIMARY KEY (app_id, slot)
      );
    `
  },
  {
    version: 7,
    name: 'finding, bulk retry, replay, retention and the actions log',
    // Same indexes as SQLite's migration 7: every filter ends in (created_at, id), the list's order.
    sql: `
      DROP INDEX IF EXISTS deliveries_status;
      DROP INDEX IF EXISTS deliveries_app;
      CREATE INDEX deliveries_created ON deliveries (created_at, id);
      CREATE INDEX deliveries_app_created ON deliveries (app, created_at, id);
      CREATE INDEX deliveries_status_created ON deliveries (status, created_at, id);
      CREATE INDEX deliveries_sr_created ON deliveries (sr_number, created_at, id);
      CREATE INDEX deliveries_record_created ON deliveries (record_id, created_at, id);
      CREATE INDEX deliveries_error_created ON deliveries (created_at, id) WHERE last_error IS NOT NULL;
      CREATE INDEX deliveries_retryable ON deliveries (app, sr_number, atd_activity_id, id)
        WHERE status IN ('failed', 'dead');
      CREATE INDEX deliveries_accepted ON deliveries (app, esb_accepted_at, id) WHERE esb_accepted_at IS NOT NULL;
      CREATE TABLE actions (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        operator text NOT NULL,
        kind text NOT NULL,
        request jsonb NOT NULL,
        result jsonb NOT NULL
      );
      CREATE TABLE prune_state (
        id integer PRIMARY KEY CHECK (id = 1),
        started_at timestamptz NOT NULL,
        finished_at timestamptz NOT NULL,
        cutoff timestamptz NOT NULL,
        deliveries bigint NOT NULL,
        attempts bigint NOT NULL,
        operator text NOT NULL,
        error text
      );
    `
  },
  {
    version: 8,
    name: 'alerts outbox',
    sql: `
      CREATE TABLE alerts (
        id bigserial PRIMARY KEY,
        kind text NOT NULL,
        dedupe_key text NOT NULL UNIQUE,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL
      );
      CREATE INDEX alerts_kind_created ON alerts (kind, created_at);
      CREATE TABLE alert_sends (
        alert_id bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
        channel text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'expired')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        lease_owner text,
        lease_until timestamptz,
        last_error text,
        last_attempt_at timestamptz,
        sent_at timestamptz,
        PRIMARY KEY (alert_id, channel)
      );
      CREATE INDEX alert_sends_pending ON alert_sends (channel, alert_id) WHERE status = 'pending';
      CREATE INDEX alert_sends_channel ON alert_sends (channel, status, alert_id);
      CREATE TABLE alert_group_items (
        id bigserial PRIMARY KEY,
        grp text NOT NULL,
        dedupe_key text NOT NULL UNIQUE,
        item jsonb NOT NULL,
        ref text,
        created_at timestamptz NOT NULL,
        alert_id bigint REFERENCES alerts (id) ON DELETE CASCADE
      );
      CREATE INDEX alert_group_items_waiting ON alert_group_items (grp, id) WHERE alert_id IS NULL;
      CREATE INDEX alert_group_items_ref ON alert_group_items (grp, ref, created_at);
      CREATE TABLE alert_episodes (
        name text PRIMARY KEY,
        started_at timestamptz NOT NULL,
        detail jsonb NOT NULL
      );
      CREATE INDEX deliveries_final_updated ON deliveries (status, updated_at) WHERE status IN ('sent', 'skipped', 'dead');
    `
  },
  {
    version: 9,
    name: 'console: last sweep per app, sessions',
    sql: `
      CREATE TABLE last_sweeps (
        app text PRIMARY KEY,
        trigger text NOT NULL,
        started_at timestamptz NOT NULL,
        finished_at timestamptz NOT NULL,
        found integer NOT NULL,
        queued integer NOT NULL,
        duplicates integer NOT NULL,
        invalid integer NOT NULL,
        error text
      );
      CREATE TABLE console_sessions (
        id text PRIMARY KEY,
        operator text NOT NULL,
        fingerprint text NOT NULL,
        created_at timestamptz NOT NULL,
        seen_at timestamptz NOT NULL
      );
      CREATE INDEX console_sessions_seen ON console_sessions (seen_at);
      CREATE INDEX console_sessions_created ON console_sessions (created_at);
    `
  },
  {
    version: 10,
    name: 'the message sent',
    sql: `
      ALTER TABLE deliveries ADD COLUMN esb_request text;
    `
  },
  {
    version: 11,
    name: 'fetch before send: where the record came from',
    // See sqlite-migrations.ts.
    sql: `
      ALTER TABLE deliveries ADD COLUMN record_origin text NOT NULL DEFAULT 'knack' CHECK (record_origin IN ('body', 'knack'));
    `
  }
]

/** Advisory-lock namespace (first key of the two-int form) for migrations; the second key is the
 *  schema name, so test schemas migrate in parallel while replicas of one schema wait for each other. */
export const MIGRATION_LOCK_CLASS = 3

export async function migratePostgres(pool: pg.Pool, schema: string | undefined, logger: Logger): Promise<void> {
  const client = await pool.connect()
  try {
    // Keyed by the configured schema name, not current_schema(): that is NULL until the schema exists.
    const lockKey = [MIGRATION_LOCK_CLASS, schema ?? '(search_path)']
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', lockKey)
    try {
      if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations')
      const applied = new Set(rows.map((r) => r.version))
      for (const m of POSTGRES_MIGRATIONS) {
        if (applied.has(m.version)) continue
        await client.query('BEGIN')
        try {
          await client.query(m.sql)
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
          await client.query('COMMIT')
        } catch (err) {
          await client.query('ROLLBACK')
          throw err
        }
        logger.info({ version: m.version, name: m.name }, 'ledger migration applied')
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', lockKey)
    }
  } finally {
    client.release()
  }
}
