// Numbered SQLite migrations. Same numbers and meaning as postgres-migrations.ts; only the dialect
// differs. Append new ones at the end; never edit one that has shipped.
import type Database from 'better-sqlite3'
import type { Logger } from 'pino'

export interface Migration {
  version: number
  name: string
  sql: string
}

const PENDING = `('queued', 'sending', 'esb_accepted', 'failed')`

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'deliveries',
    sql: `
      CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        app TEXT NOT NULL,
        record_id TEXT NOT NULL,
        sr_number TEXT NOT NULL,
        atd_activity_id INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        -- app|record|hash for 'once' rows, NULL for resend rows: the unique index makes
        -- duplicate webhooks and overlapping sweeps collapse to one row, whatever the process.
        dedupe_key TEXT UNIQUE,
        source TEXT NOT NULL CHECK (source IN ('webhook', 'resend', 'sweep', 'retry')),
        record TEXT NOT NULL,
        status TEXT NOT NULL
          CHECK (status IN ('queued', 'sending', 'esb_accepted', 'sent', 'skipped', 'failed', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        lease_owner TEXT,
        lease_until INTEGER,
        last_error TEXT,
        esb_response TEXT,
        esb_accepted_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX deliveries_content ON deliveries (app, record_id, content_hash);
      -- Order per service request: the earliest pending row of an SR, and whether one is leased.
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
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
        n INTEGER NOT NULL,
        step TEXT NOT NULL CHECK (step IN ('esb', 'knack', 'build')),
        outcome TEXT NOT NULL,
        detail TEXT,
        started_at INTEGER NOT NULL,
        finished_at INTEGER NOT NULL
      ) STRICT;
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
    // SQLite cannot alter a CHECK constraint: the table is rebuilt (sqlite.org/lang_altertable.html,
    // "other kinds of table schema changes"; migrateSqlite runs this with foreign keys off, so
    // dropping the old table does not cascade into attempts). The id sequence is carried over so
    // ids of pruned rows are never handed out again.
    sql: `
      CREATE TABLE deliveries_v4 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        app TEXT NOT NULL,
        record_id TEXT NOT NULL,
        sr_number TEXT NOT NULL,
        atd_activity_id INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        dedupe_key TEXT UNIQUE,
        source TEXT NOT NULL CHECK (source IN ('webhook', 'resend', 'sweep', 'retry', 'replay')),
        record TEXT NOT NULL,
        status TEXT NOT NULL
          CHECK (status IN ('queued', 'sending', 'esb_accepted', 'sent', 'skipped', 'failed', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        lease_owner TEXT,
        lease_until INTEGER,
        last_error TEXT,
        esb_response TEXT,
        esb_accepted_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        -- 1 once an attempt timed out after its body was sent and a later one was accepted.
        possible_duplicate INTEGER NOT NULL DEFAULT 0 CHECK (possible_duplicate IN (0, 1))
      ) STRICT;
      INSERT INTO deliveries_v4 (id, app, record_id, sr_number, atd_activity_id, content_hash, dedupe_key, source,
          record, status, attempts, next_attempt_at, lease_owner, lease_until, last_error, esb_response,
          esb_accepted_at, created_at, updated_at)
        SELECT id, app, record_id, sr_number, atd_activity_id, content_hash, dedupe_key, source,
          record, status, attempts, next_attempt_at, lease_owner, lease_until, last_error, esb_response,
          esb_accepted_at, created_at, updated_at FROM deliveries;
      CREATE TEMP TABLE v4_sequence AS SELECT seq FROM sqlite_sequence WHERE name = 'deliveries';
      DROP TABLE deliveries;
      ALTER TABLE deliveries_v4 RENAME TO deliveries;
      UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT seq FROM v4_sequence), 0)) WHERE name = 'deliveries';
      DROP TABLE v4_sequence;
      CREATE INDEX deliveries_content ON deliveries (app, record_id, content_hash);
      CREATE INDEX deliveries_sr_pending ON deliveries (app, sr_number, atd_activity_id, id)
        WHERE status IN ${PENDING};
      CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ${PENDING};
      CREATE INDEX deliveries_status ON deliveries (status, id);
      CREATE INDEX deliveries_app ON deliveries (app, id);
      CREATE INDEX deliveries_sr_leased ON deliveries (app, sr_number, lease_until) WHERE lease_until IS NOT NULL;
    `
  },
  {
    version: 5,
    name: 'esb gate',
    // One row: whether sending to the ESB is paused, the failure streaks that lead there, and the
    // probe slot, shared by every process on the store (src/worker/esb-gate.ts).
    sql: `
      CREATE TABLE esb_gate (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        state TEXT NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'paused')),
        since INTEGER,
        cause TEXT CHECK (cause IS NULL OR cause IN ('endpoint', 'record', 'credentials')),
        last_error TEXT,
        endpoint_failures INTEGER NOT NULL DEFAULT 0,
        -- JSON array of delivery ids
        record_failures TEXT NOT NULL DEFAULT '[]',
        probe_at INTEGER,
        updated_at INTEGER
      ) STRICT;
      INSERT INTO esb_gate (id) VALUES (1);
    `
  },
  // Version 6 is PostgreSQL's knack_rate_slots (the Knack limit shared by replicas); one SQLite
  // process keeps its limiter in memory, so the number is skipped here on purpose.
  {
    version: 7,
    name: 'finding, bulk retry, replay, retention and the actions log',
    // Every filter of GET /deliveries has an index ending in (created_at, id), the list's order,
    // so a page is a range read without a sort; (status, id) and (app, id) are superseded.
    // A later rebuild of deliveries (a CHECK change) must recreate these.
    sql: `
      DROP INDEX IF EXISTS deliveries_status;
      DROP INDEX IF EXISTS deliveries_app;
      CREATE INDEX deliveries_created ON deliveries (created_at, id);
      CREATE INDEX deliveries_app_created ON deliveries (app, created_at, id);
      CREATE INDEX deliveries_status_created ON deliveries (status, created_at, id);
      CREATE INDEX deliveries_sr_created ON deliveries (sr_number, created_at, id);
      CREATE INDEX deliveries_record_created ON deliveries (record_id, created_at, id);
      -- q searches last_error: only deliveries that did not go hold one (sent and skipped clear it).
      CREATE INDEX deliveries_error_created ON deliveries (created_at, id) WHERE last_error IS NOT NULL;
      -- Bulk retry walks failed/dead rows in per-SR order.
      CREATE INDEX deliveries_retryable ON deliveries (app, sr_number, atd_activity_id, id)
        WHERE status IN ('failed', 'dead');
      -- Replay finds what the ESB accepted in a window.
      CREATE INDEX deliveries_accepted ON deliveries (app, esb_accepted_at, id) WHERE esb_accepted_at IS NOT NULL;
      -- Who did what. Never pruned: RETENTION applies to deliveries only.
      CREATE TABLE actions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        operator TEXT NOT NULL,
        kind TEXT NOT NULL,
        request TEXT NOT NULL,
        result TEXT NOT NULL
      ) STRICT;
      -- The last prune (one row), for metrics and the console.
      CREATE TABLE prune_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        started_at INTEGER NOT NULL,
        finished_at INTEGER NOT NULL,
        cutoff INTEGER NOT NULL,
        deliveries INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        operator TEXT NOT NULL,
        error TEXT
      ) STRICT;
    `
  },
  {
    version: 8,
    name: 'alerts outbox',
    // Alerts are written before they are sent and marked sent per channel (alert_sends); the
    // unique dedupe_key makes "at most once per event" hold across processes and restarts.
    sql: `
      CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        dedupe_key TEXT NOT NULL UNIQUE,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX alerts_kind_created ON alerts (kind, created_at);
      CREATE TABLE alert_sends (
        alert_id INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
        channel TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'expired')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        lease_owner TEXT,
        lease_until INTEGER,
        last_error TEXT,
        last_attempt_at INTEGER,
        sent_at INTEGER,
        PRIMARY KEY (alert_id, channel)
      ) STRICT;
      -- Each channel's head (its oldest pending send) is one seek.
      CREATE INDEX alert_sends_pending ON alert_sends (channel, alert_id) WHERE status = 'pending';
      CREATE INDEX alert_sends_channel ON alert_sends (channel, status, alert_id);
      -- Items gathered into one alert later (dead deliveries over a few minutes); alert_id is
      -- NULL while the item waits.
      CREATE TABLE alert_group_items (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        grp TEXT NOT NULL,
        dedupe_key TEXT NOT NULL UNIQUE,
        item TEXT NOT NULL,
        -- What the item is about (a delivery id), to find deliveries no item was written for.
        ref TEXT,
        created_at INTEGER NOT NULL,
        alert_id INTEGER REFERENCES alerts (id) ON DELETE CASCADE
      ) STRICT;
      CREATE INDEX alert_group_items_waiting ON alert_group_items (grp, id) WHERE alert_id IS NULL;
      CREATE INDEX alert_group_items_ref ON alert_group_items (grp, ref, created_at);
      -- States that last (a stuck delivery): one row while open, so it is alerted once per episode.
      CREATE TABLE alert_episodes (
        name TEXT PRIMARY KEY,
        started_at INTEGER NOT NULL,
        detail TEXT NOT NULL
      ) STRICT;
      -- The daily summary counts what reached a final status in a day.
      CREATE INDEX deliveries_final_updated ON deliveries (status, updated_at) WHERE status IN ('sent', 'skipped', 'dead');
    `
  },
  {
    version: 9,
    name: 'console: last sweep per app, sessions',
    sql: `
      -- One row per app, overwritten by each sweep: the overview's "last sweep and its result",
      -- also for sweeps run by another replica or by knack311 sweep from cron.
      CREATE TABLE last_sweeps (
        app TEXT PRIMARY KEY,
        trigger TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        finished_at INTEGER NOT NULL,
        found INTEGER NOT NULL,
        queued INTEGER NOT NULL,
        duplicates INTEGER NOT NULL,
        invalid INTEGER NOT NULL,
        error TEXT
      ) STRICT;
      -- Console logins. id is the sha256 of the cookie's token: the table alone opens no session.
      CREATE TABLE console_sessions (
        id TEXT PRIMARY KEY,
        operator TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        seen_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX console_sessions_seen ON console_sessions (seen_at);
      CREATE INDEX console_sessions_created ON console_sessions (created_at);
    `
  },
  {
    version: 10,
    name: 'the message sent',
    // The XML the ESB accepted, byte for byte (its header timestamp is the time of sending, so it
    // cannot be rebuilt later): GET /deliveries/:id and the console show it.
    sql: `
      ALTER TABLE deliveries ADD COLUMN esb_request TEXT;
    `
  },
  {
    version: 11,
    name: 'fetch before send: where the record came from',
    // 'body': a webhook body, read back from Knack before it is sent; 'knack': read from Knack.
    // Rows already queued keep today's behaviour ('knack': sent as stored).
    sql: `
      ALTER TABLE deliveries ADD COLUMN record_origin TEXT NOT NULL DEFAULT 'knack' CHECK (record_origin IN ('body', 'knack'));
    `
  }
]

/** Apply missing migrations in one write transaction: BEGIN IMMEDIATE serialises processes
 *  opening the same file together, and the applied set is read inside it. Foreign keys are off
 *  meanwhile (a table rebuild must not cascade) and checked before the commit. */
export function migrateSqlite(db: Database.Database, logger: Logger): void {
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) === 1
  if (foreignKeys) db.pragma('foreign_keys = OFF')
  try {
    migrateInTransaction(db, logger)
  } finally {
    if (foreignKeys) db.pragma('foreign_keys = ON')
  }
}

function migrateInTransaction(db: Database.Database, logger: Logger): void {
  const run = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`)
    const applied = new Set(
      (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version)
    )
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
    for (const m of SQLITE_MIGRATIONS) {
      if (applied.has(m.version)) continue
      db.exec(m.sql)
      record.run(m.version, m.name, Date.now())
      logger.info({ version: m.version, name: m.name }, 'ledger migration applied')
    }
    const broken = db.pragma('foreign_key_check') as unknown[]
    if (broken.length > 0) throw new Error(`ledger migration left ${broken.length} row(s) whose foreign key points nowhere`)
  })
  run.immediate()
}
