// The ledger on PostgreSQL, shared by every replica of the service. All cross-process rules live
// in the database: a unique index and advisory transaction locks, never this process's memory.
import pg from 'pg'
import type { Logger } from 'pino'
import { DeliveryNotFound } from '../errors.js'
import type { AlertStore } from './alert-types.js'
import { createPostgresAlertStore } from './postgres-alerts.js'
import { migratePostgres } from './postgres-migrations.js'
import { createPostgresLifecycle } from './postgres-lifecycle.js'
import { createPostgresRateSlots } from './postgres-rate-slots.js'
import type { RateSlots } from '../clients/knack/rate-slots.js'
import { byDueThenActivity, dedupeKey, emptyCounts, replayKey, toAppSummaries, toAttempt, toDateOrNull, toDelivery, toEsbGate, toSession, toSweepRun } from './rows.js'
import type { Row } from './rows.js'
import { lateAttempt } from './late-attempt.js'
import type {
  AcceptedCursor,
  AcceptedWindow,
  Action,
  DeliveryFilter,
  LifecycleStore,
  NewAction,
  PrunableStatus,
  PruneBatch,
  PruneRun,
  RequeueBatch,
  SrCursor
} from './lifecycle-types.js'
import type {
  AdoptResult,
  AppSummary,
  Attempt,
  AttemptRecord,
  ClaimScope,
  ConsoleSession,
  Delivery,
  DeliveryStatus,
  EnqueueMode,
  EnqueueResult,
  EsbAcceptUpdate,
  EsbGate,
  FinishUpdate,
  KnackRecordUpdate,
  Ledger,
  ListFilter,
  NewDelivery,
  SessionLimits,
  SweepRun
} from './types.js'
import { CLAIM_WINDOW, HAS_EARLIER_PENDING, PENDING, perScope, srBusy } from './sql.js'

/** Advisory-lock namespaces (first key of the two-int form; the bigint form is a separate space). */
const LOCK_RECORD = 1 // enqueue: one (app, record) at a time
const LOCK_SR = 2 // claim: one claimer per (app, sr_number) at a time

const SR_BUSY = srBusy('$1')

const CLAIMABLE = `d.status IN ${PENDING}
    AND (d.lease_until IS NULL OR d.lease_until <= $1)
    AND (d.status = 'sending' OR d.next_attempt_at <= $1)
    AND NOT ${HAS_EARLIER_PENDING}
    AND NOT ${SR_BUSY}`

/** Each SR's head: its first pending delivery in (atd_activity_id, id) order, found by a skip-scan
 *  of the partial index deliveries_sr_pending — one index seek per SR — so a deep backlog behind
 *  a few waiting heads costs no more than the heads themselves. */
const HEADS = `WITH RECURSIVE heads AS (
    (SELECT d.id, d.app, d.sr_number FROM deliveries d WHERE d.status IN ${PENDING}
      ORDER BY d.app, d.sr_number, d.atd_activity_id, d.id LIMIT 1)
    UNION ALL
    SELECT n.id, n.app, n.sr_number FROM heads h
    CROSS JOIN LATERAL (SELECT d.id, d.app, d.sr_number FROM deliveries d
      WHERE d.status IN ${PENDING} AND (d.app, d.sr_number) > (h.app, h.sr_number)
      ORDER BY d.app, d.sr_number, d.atd_activity_id, d.id LIMIT 1) n
  )`

/** The candidates are heads by construction; LEASE re-checks all of CLAIMABLE under the SR locks.
 *  The scope narrows them to esb_accepted heads (Knack work only) or the others (ESB work). */
const claimCandidates = (scope: string) => `${HEADS}
  SELECT d.id, d.app || chr(31) || d.sr_number AS sr_key FROM heads JOIN deliveries d ON d.id = heads.id
  WHERE (d.lease_until IS NULL OR d.lease_until <= $1)
    AND (d.status = 'sending' OR d.next_attempt_at <= $1)
    AND NOT ${SR_BUSY}${scope}
  ORDER BY d.next_attempt_at, d.atd_activity_id, d.id
  LIMIT $2`
const CLAIM_CANDIDATES = perScope(claimCandidates)

/** The quick claim (as in sqlite-ledger.ts): the heads among the CLAIM_WINDOW earliest-due pending
 *  rows, each known to be its SR's head by one seek. The skip-scan visits every SR: 190 ms per
 *  claim with 30,000 one-activity SRs waiting (bench/claim-scale.ts). What this finds ranks before
 *  any head outside the window, so when it finds `limit` it is the full answer; else the skip-scan
 *  runs. Either way LEASE re-checks every candidate under the SR locks. */
const claimInWindow = (scope: string) => `SELECT d.id, d.app || chr(31) || d.sr_number AS sr_key FROM (
    SELECT id FROM deliveries WHERE status IN ${PENDING} ORDER BY next_attempt_at LIMIT ${CLAIM_WINDOW}
  ) AS w JOIN deliveries d ON d.id = w.id
  WHERE (d.lease_until IS NULL OR d.lease_until <= $1)
    AND (d.status = 'sending' OR d.next_attempt_at <= $1)
    AND d.id = (SELECT e.id FROM deliveries e
      WHERE e.status IN ${PENDING} AND e.app = d.app AND e.sr_number = d.sr_number
      ORDER BY e.app, e.sr_number, e.atd_activity_id, e.id LIMIT 1)
    AND NOT ${SR_BUSY}${scope}
  ORDER BY d.next_attempt_at, d.atd_activity_id, d.id
  LIMIT $2`
const CLAIM_IN_WINDOW = perScope(claimInWindow)

const TRY_LOCK_SRS = `SELECT c.id FROM unnest($1::bigint[], $2::text[]) AS c(id, sr_key)
  WHERE pg_try_advisory_xact_lock(${LOCK_SR}, hashtext(c.sr_key))`

// Re-checked in a new statement, so with a snapshot taken after the SR locks were granted.
const LEASE = `UPDATE deliveries u
  SET status = CASE u.status WHEN 'esb_accepted' THEN 'esb_accepted' ELSE 'sending' END,
      lease_owner = $3, lease_until = $4, updated_at = $1
  FROM (SELECT d.id FROM deliveries d WHERE d.id = ANY($2::bigint[]) AND ${CLAIMABLE}
        FOR UPDATE OF d SKIP LOCKED) AS pick
  WHERE u.id = pick.id
  RETURNING u.*`

const NEXT_DUE = `${HEADS}
  SELECT MIN(GREATEST(
    CASE WHEN d.status = 'sending' THEN COALESCE(d.lease_until, 'epoch'::timestamptz)
         ELSE GREATEST(d.next_attempt_at, d.lease_until) END,
    (SELECT MAX(b.lease_until) FROM deliveries b
      WHERE b.app = d.app AND b.sr_number = d.sr_number AND b.lease_until IS NOT NULL
        AND b.status IN ${PENDING} AND b.id <> d.id)
  )) AS due
  FROM heads JOIN deliveries d ON d.id = heads.id`

const INSERT = `INSERT INTO deliveries (app, record_id, sr_number, atd_activity_id, content_hash, dedupe_key,
    source, record, status, attempts, next_attempt_at, created_at, updated_at, record_origin)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', 0, $9, $9, $9, $10)`

export interface PostgresLedgerOptions {
  connectionString: string
  /** Schema for every table (search_path); created if missing. Already validated as an identifier. */
  schema: string | undefined
  /** libpq `options` from the URL, kept and extended with our search_path. */
  options: string | undefined
  logger: Logger
  maxConnections?: number
}

export async function openPostgresLedger(opts: PostgresLedgerOptions): Promise<Ledger> {
  const options = [opts.options, opts.schema === undefined ? undefined : `-c search_path=${opts.schema}`]
    .filter((o) => o !== undefined && o !== '')
    .join(' ')
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.maxConnections ?? 10,
    ...(options === '' ? {} : { options })
  })
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', (err) => opts.logger.warn({ err: err.message }, 'ledger: idle PostgreSQL connection failed'))
  try {
    await migratePostgres(pool, opts.schema, opts.logger)
  } catch (err) {
    await pool.end()
    throw err
  }
  return new PostgresLedger(pool)
}

class PostgresLedger implements Ledger {
  readonly alerts: AlertStore
  readonly rateSlots: RateSlots
  private closed = false
  private readonly life: LifecycleStore

  constructor(private readonly pool: pg.Pool) {
    this.alerts = createPostgresAlertStore(pool)
    this.rateSlots = createPostgresRateSlots(pool)
    this.life = createPostgresLifecycle(pool)
  }

  async enqueue(input: NewDelivery, mode: EnqueueMode, now: Date): Promise<EnqueueResult> {
    return this.inTransaction(async (c) => {
      // Serialises enqueues of one record across processes, so a 'once' and a 'resend' of the
      // same content cannot both insert; the unique dedupe_key index stays as the last word.
      await c.query(`SELECT pg_advisory_xact_lock(${LOCK_RECORD}, hashtext($1))`, [
        `${input.app}\u001f${input.recordId}`
      ])
      const find =
        mode === 'once'
          ? `SELECT * FROM deliveries WHERE app = $1 AND record_id = $2 AND content_hash = $3
             ORDER BY CASE WHEN status IN ${PENDING} THEN 0 ELSE 1 END, id DESC LIMIT 1`
          : `SELECT * FROM deliveries WHERE app = $1 AND record_id = $2 AND content_hash = $3
             AND status IN ${PENDING} ORDER BY id DESC LIMIT 1`
      const key = mode === 'once' ? dedupeKey(input) : mode === 'resend' ? null : replayKey(mode.replayOf)
      if (typeof mode === 'object') {
        const replayed = await c.query<Row>('SELECT * FROM deliveries WHERE dedupe_key = $1', [key])
        if (replayed.rows[0]) return { delivery: toDelivery(replayed.rows[0]), created: false }
      }
      const existing = await c.query<Row>(find, [input.app, input.recordId, input.contentHash])
      if (existing.rows[0]) return { delivery: toDelivery(existing.rows[0]), created: false }

      const values = [
        input.app,
        input.recordId,
        input.srNumber,
        input.atdActivityId,
        input.contentHash,
        key,
        input.source,
        JSON.stringify(input.record),
        now,
        input.recordOrigin ?? 'knack'
      ]
      const sql = key !== null ? `${INSERT} ON CONFLICT (dedupe_key) DO NOTHING RETURNING *` : `${INSERT} RETURNING *`
      const inserted = await c.query<Row>(sql, values)
      if (inserted.rows[0]) return { delivery: toDelivery(inserted.rows[0]), created: true }
      const winner = await c.query<Row>('SELECT * FROM deliveries WHERE dedupe_key = $1', [key])
      if (!winner.rows[0]) throw new Error('ledger: dedupe conflict without a row')
      return { delivery: toDelivery(winner.rows[0]), created: false }
    })
  }

  /**
   * Why advisory locks and not SKIP LOCKED alone: SKIP LOCKED keeps two claimers off the same ROW,
   * but each judges "is this the earliest pending row of its SR, is the SR idle?" from its own
   * snapshot. A claimer whose snapshot predates another's committed lease (or an earlier activity
   * inserted late) could lease a second row of the same SR. So: (1) pick candidate heads,
   * (2) pg_try_advisory_xact_lock per SR key — a busy SR is skipped, never waited for, so no
   * deadlocks — and (3) re-check and lease in a NEW statement, whose snapshot is taken after the
   * locks were granted and therefore sees every lease committed under them.
   */
  async claim(owner: string, limit: number, leaseMs: number, now: Date, scope: ClaimScope = 'all'): Promise<Delivery[]> {
    if (limit <= 0) return []
    const claimed = await this.inTransaction(async (c) => {
      let candidates = await c.query<{ id: string; sr_key: string }>(CLAIM_IN_WINDOW[scope], [now, Math.floor(limit)])
      if (candidates.rows.length < limit) candidates = await c.query<{ id: string; sr_key: string }>(CLAIM_CANDIDATES[scope], [now, Math.floor(limit)])
      if (candidates.rows.length === 0) return []
      const locked = await c.query<{ id: string }>(TRY_LOCK_SRS, [
        candidates.rows.map((r) => r.id),
        candidates.rows.map((r) => r.sr_key)
      ])
      if (locked.rows.length === 0) return []
      const until = new Date(now.getTime() + leaseMs)
      const leased = await c.query<Row>(LEASE, [now, locked.rows.map((r) => r.id), owner, until])
      return leased.rows.map(toDelivery)
    })
    return claimed.sort(byDueThenActivity)
  }

  async releaseForeignLeases(owner: string): Promise<number> {
    const res = await this.pool.query(
      `UPDATE deliveries SET status = CASE status WHEN 'sending' THEN 'queued' ELSE status END,
         lease_owner = NULL, lease_until = NULL, updated_at = now()
       WHERE lease_owner IS NOT NULL AND lease_owner <> $1`,
      [owner]
    )
    return res.rowCount ?? 0
  }

  async markEsbAccepted(id: number, accept: EsbAcceptUpdate): Promise<boolean> {
    return this.inTransaction(async (c) => {
      const res = await c.query(
        `UPDATE deliveries SET status = 'esb_accepted', esb_response = $2, esb_request = $6, esb_accepted_at = $3, updated_at = $3,
           possible_duplicate = possible_duplicate OR $5
         WHERE id = $1 AND lease_owner IS NOT DISTINCT FROM $4`,
        [id, accept.esbResponse, accept.now, accept.owner, accept.possibleDuplicate === true, accept.esbRequest ?? null]
      )
      const owned = (res.rowCount ?? 0) > 0
      if (!owned) {
        const late = await c.query('UPDATE deliveries SET possible_duplicate = true, updated_at = $2 WHERE id = $1', [id, accept.now])
        if (late.rowCount === 0) throw new DeliveryNotFound(String(id))
      }
      if (accept.attempt) await insertAttempt(c, id, owned ? accept.attempt : lateAttempt(accept.attempt))
      return owned
    })
  }

  async finish(id: number, update: FinishUpdate): Promise<boolean> {
    return this.inTransaction(async (c) => {
      const res = await c.query(
        `UPDATE deliveries SET status = $2, attempts = $3, next_attempt_at = COALESCE($4, next_attempt_at),
           last_error = CASE WHEN $5 THEN $6 ELSE last_error END,
           lease_owner = NULL, lease_until = NULL, updated_at = $7
         WHERE id = $1 AND lease_owner IS NOT DISTINCT FROM $8`,
        [
          id,
          update.status,
          update.attempts,
          update.nextAttemptAt ?? null,
          update.lastError !== undefined,
          update.lastError ?? null,
          update.now,
          update.owner
        ]
      )
      if (res.rowCount === 0) {
        const exists = await c.query('SELECT 1 FROM deliveries WHERE id = $1', [id])
        if (exists.rowCount === 0) throw new DeliveryNotFound(String(id))
        return false
      }
      if (update.attempt) await insertAttempt(c, id, update.attempt)
      return true
    })
  }

  async adoptKnackRecord(id: number, update: KnackRecordUpdate): Promise<AdoptResult> {
    return this.inTransaction(async (c) => {
      const held = await c.query<Row>('SELECT * FROM deliveries WHERE id = $1 AND lease_owner IS NOT DISTINCT FROM $2 FOR UPDATE', [id, update.owner])
      if (!held.rows[0]) {
        const exists = await c.query('SELECT 1 FROM deliveries WHERE id = $1', [id])
        if (exists.rowCount === 0) throw new DeliveryNotFound(String(id))
        return { kind: 'lost' }
      }
      const current = toDelivery(held.rows[0])
      // The enqueue lock of this record: a sweep queuing the same content now either sees this
      // row's new content or is seen here.
      await c.query(`SELECT pg_advisory_xact_lock(${LOCK_RECORD}, hashtext($1))`, [`${current.app}\u001f${current.recordId}`])
      const twin = await c.query<Row>(
        `SELECT * FROM deliveries WHERE app = $1 AND record_id = $2 AND content_hash = $3 AND id <> $4
         ORDER BY CASE WHEN status IN ${PENDING} THEN 0 ELSE 1 END, id DESC LIMIT 1`,
        [current.app, current.recordId, update.contentHash, id]
      )
      if (twin.rows[0]) return { kind: 'duplicate', of: toDelivery(twin.rows[0]) }
      const keys = { app: current.app, recordId: current.recordId, contentHash: update.contentHash }
      const row = await c.query<Row>(
        `UPDATE deliveries SET record = $2, sr_number = $3, atd_activity_id = $4, content_hash = $5,
           dedupe_key = CASE WHEN dedupe_key IS NULL THEN NULL ELSE $6 END, record_origin = 'knack', updated_at = $7
         WHERE id = $1 RETURNING *`,
        [id, JSON.stringify(update.record), update.srNumber, update.atdActivityId, update.contentHash, dedupeKey(keys), update.now]
      )
      if (!row.rows[0]) throw new Error('ledger: a row written in this transaction is missing')
      return { kind: 'adopted', delivery: toDelivery(row.rows[0]) }
    })
  }

  async get(id: number): Promise<Delivery | undefined> {
    const res = await this.pool.query<Row>('SELECT * FROM deliveries WHERE id = $1', [id])
    return res.rows[0] ? toDelivery(res.rows[0]) : undefined
  }

  async attempts(id: number): Promise<Attempt[]> {
    const res = await this.pool.query<Row>('SELECT * FROM attempts WHERE delivery_id = $1 ORDER BY id', [id])
    return res.rows.map(toAttempt)
  }

  // The ledger over months: postgres-lifecycle.ts.
  list(filter: ListFilter): Promise<Delivery[]> {
    return this.life.list(filter)
  }
  count(filter: DeliveryFilter): Promise<number> {
    return this.life.count(filter)
  }
  statusesOf(ids: readonly number[]): Promise<Partial<Record<DeliveryStatus, number>>> {
    return this.life.statusesOf(ids)
  }
  requeueMatching(filter: DeliveryFilter, after: SrCursor | null, limit: number, now: Date): Promise<RequeueBatch> {
    return this.life.requeueMatching(filter, after, limit, now)
  }
  acceptedIn(window: AcceptedWindow, after: AcceptedCursor | null, limit: number): Promise<Delivery[]> {
    return this.life.acceptedIn(window, after, limit)
  }
  countPrunable(cutoff: Date): Promise<number> {
    return this.life.countPrunable(cutoff)
  }
  pruneBatch(status: PrunableStatus, cutoff: Date, limit: number): Promise<PruneBatch> {
    return this.life.pruneBatch(status, cutoff, limit)
  }
  reclaimSpace(maxPages: number): Promise<number> {
    return this.life.reclaimSpace(maxPages)
  }
  enableIncrementalVacuum(): Promise<'converted' | 'already' | 'not_applicable'> {
    return this.life.enableIncrementalVacuum()
  }
  recordPrune(run: PruneRun): Promise<void> {
    return this.life.recordPrune(run)
  }
  lastPrune(): Promise<PruneRun | null> {
    return this.life.lastPrune()
  }
  addAction(action: NewAction): Promise<Action> {
    return this.life.addAction(action)
  }
  listActions(page: { limit: number; before?: number | undefined }): Promise<Action[]> {
    return this.life.listActions(page)
  }

  async requeue(id: number, now: Date): Promise<boolean> {
    const res = await this.pool.query(
      `UPDATE deliveries
       SET status = CASE WHEN esb_accepted_at IS NOT NULL THEN 'esb_accepted' ELSE 'queued' END,
           attempts = 0, next_attempt_at = $2, lease_owner = NULL, lease_until = NULL, updated_at = $2
       WHERE id = $1 AND status IN ('failed', 'dead')`,
      [id, now]
    )
    return (res.rowCount ?? 0) > 0
  }

  async countByStatus(): Promise<Record<DeliveryStatus, number>> {
    const res = await this.pool.query<{ status: DeliveryStatus; n: string }>(
      'SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status'
    )
    const counts = emptyCounts()
    for (const row of res.rows) counts[row.status] = Number(row.n)
    return counts
  }

  async oldestPending(): Promise<Date | null> {
    const res = await this.pool.query<Row>(`SELECT MIN(created_at) AS at FROM deliveries WHERE status IN ${PENDING}`)
    return toDateOrNull(res.rows[0]?.at, 'created_at')
  }

  async nextDueAt(): Promise<Date | null> {
    const res = await this.pool.query<Row>(NEXT_DUE)
    return toDateOrNull(res.rows[0]?.due, 'next_attempt_at')
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1')
  }

  async appSummaries(): Promise<AppSummary[]> {
    const [counts, oldest] = await Promise.all([
      this.pool.query<Row>('SELECT app, status, COUNT(*) AS n FROM deliveries GROUP BY app, status'),
      this.pool.query<Row>(`SELECT app, MIN(created_at) AS at FROM deliveries WHERE status IN ${PENDING} GROUP BY app`)
    ])
    return toAppSummaries(counts.rows, oldest.rows)
  }

  async recordSweep(run: SweepRun): Promise<void> {
    await this.pool.query(
      `INSERT INTO last_sweeps (app, trigger, started_at, finished_at, found, queued, duplicates, invalid, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (app) DO UPDATE SET trigger = excluded.trigger, started_at = excluded.started_at,
         finished_at = excluded.finished_at, found = excluded.found, queued = excluded.queued,
         duplicates = excluded.duplicates, invalid = excluded.invalid, error = excluded.error`,
      [run.app, run.trigger, run.startedAt, run.finishedAt, run.found, run.queued, run.duplicates, run.invalid, run.error]
    )
  }

  async lastSweeps(): Promise<SweepRun[]> {
    const res = await this.pool.query<Row>('SELECT * FROM last_sweeps ORDER BY app')
    return res.rows.map(toSweepRun)
  }

  async createSession(session: ConsoleSession, limits: SessionLimits): Promise<void> {
    const now = session.createdAt.getTime()
    await this.inTransaction(async (c) => {
      await c.query('DELETE FROM console_sessions WHERE seen_at <= $1 OR created_at <= $2', [
        new Date(now - limits.idleMs),
        new Date(now - limits.maxAgeMs)
      ])
      await c.query(
        'INSERT INTO console_sessions (id, operator, fingerprint, created_at, seen_at) VALUES ($1, $2, $3, $4, $5)',
        [session.id, session.operator, session.fingerprint, session.createdAt, session.seenAt]
      )
    })
  }

  async session(id: string, now: Date, limits: SessionLimits): Promise<ConsoleSession | undefined> {
    const at = now.getTime()
    const res = await this.pool.query<Row>(
      'SELECT * FROM console_sessions WHERE id = $1 AND seen_at > $2 AND created_at > $3',
      [id, new Date(at - limits.idleMs), new Date(at - limits.maxAgeMs)]
    )
    if (!res.rows[0]) return undefined
    const session = toSession(res.rows[0])
    if (at - session.seenAt.getTime() > limits.touchAfterMs) {
      await this.pool.query('UPDATE console_sessions SET seen_at = $2 WHERE id = $1 AND seen_at < $2', [id, now])
      session.seenAt = now
    }
    return session
  }

  async deleteSession(id: string): Promise<void> {
    await this.pool.query('DELETE FROM console_sessions WHERE id = $1', [id])
  }

  async esbGate(): Promise<EsbGate> {
    const res = await this.pool.query<Row>('SELECT * FROM esb_gate WHERE id = 1')
    if (!res.rows[0]) throw new Error('ledger: the esb_gate row is missing')
    return toEsbGate(res.rows[0])
  }

  /** The row lock (FOR UPDATE) makes replicas take turns: each change sees the one before it. */
  async updateEsbGate(change: (current: EsbGate) => EsbGate | null): Promise<{ before: EsbGate; after: EsbGate }> {
    return this.inTransaction(async (c) => {
      const res = await c.query<Row>('SELECT * FROM esb_gate WHERE id = 1 FOR UPDATE')
      if (!res.rows[0]) throw new Error('ledger: the esb_gate row is missing')
      const before = toEsbGate(res.rows[0])
      const after = change(before)
      if (after === null) return { before, after: before }
      await c.query(
        `UPDATE esb_gate SET state = $1, since = $2, cause = $3, last_error = $4, endpoint_failures = $5,
           record_failures = $6, probe_at = $7, updated_at = $8
         WHERE id = 1`,
        [after.state, after.since, after.cause, after.lastError, after.endpointFailures, JSON.stringify(after.recordFailures), after.probeAt, after.updatedAt]
      )
      return { before, after }
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.pool.end()
  }

  private async inTransaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    let broken = false
    try {
      await client.query('BEGIN')
      const result = await fn(client)
      await client.query('COMMIT')
      return result
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true
      })
      throw err
    } finally {
      // A client whose ROLLBACK failed is in an unknown state: destroy it rather than reuse it.
      client.release(broken)
    }
  }
}

async function insertAttempt(c: pg.PoolClient, deliveryId: number, a: AttemptRecord): Promise<void> {
  await c.query(
    `INSERT INTO attempts (delivery_id, n, step, outcome, detail, started_at, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [deliveryId, a.n, a.step, a.outcome, a.detail, a.startedAt, a.finishedAt]
  )
}
