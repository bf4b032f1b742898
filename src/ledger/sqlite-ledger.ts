// The ledger on one SQLite file (better-sqlite3: synchronous calls behind the async interface).
// Every read-then-write runs in BEGIN IMMEDIATE, which takes the file's write lock first, so two
// processes on the same file are serialised by SQLite itself, not by this process's memory.
//
// Group commit: with synchronous=FULL every commit costs an fsync (4-10 ms on a VM disk), which
// capped intake at a few hundred webhooks/s and blocked the event loop meanwhile. Writes asked
// for in the same turn of the event loop now share one BEGIN IMMEDIATE transaction, each in its
// own savepoint (a failing write rolls back and rejects alone), and every caller's promise
// resolves only after that one commit: "on disk before it resolves" holds as before. Under load
// a commit also waits out a short window (GROUP_COMMIT_WINDOW_MS) so that more writes share it.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { Logger } from 'pino'
import { DeliveryNotFound } from '../errors.js'
import type { AlertStore } from './alert-types.js'
import { createSqliteAlertStore } from './sqlite-alerts.js'
import { migrateSqlite } from './sqlite-migrations.js'
import { byDueThenActivity, dedupeKey, emptyCounts, replayKey, toAppSummaries, toAttempt, toDateOrNull, toDelivery, toEsbGate, toSession, toSweepRun } from './rows.js'
import type { Row } from './rows.js'
import { adoptIncrementalVacuum, createSqliteLifecycle, prepareAutoVacuum } from './sqlite-lifecycle.js'
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
import { lateAttempt } from './late-attempt.js'
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
  EsbAcceptUpdate,
  EnqueueResult,
  EsbGate,
  FinishUpdate,
  KnackRecordUpdate,
  Ledger,
  ListFilter,
  NewDelivery,
  SessionLimits,
  SweepRun
} from './types.js'
import { CLAIM_WINDOW, PENDING, perScope, srBusy } from './sql.js'

const SR_BUSY = srBusy('@now')

/** Each SR's head: its first pending delivery in (atd_activity_id, id) order. A skip-scan over the
 *  partial index deliveries_sr_pending — one index seek per SR, not a test of every pending row —
 *  so a deep backlog behind a few failing heads costs no more than the heads themselves. */
const HEADS = `WITH RECURSIVE heads(id) AS (
    SELECT (SELECT id FROM deliveries INDEXED BY deliveries_sr_pending WHERE status IN ${PENDING}
      ORDER BY app, sr_number, atd_activity_id, id LIMIT 1)
    UNION ALL
    -- The next SR of the same app, else the first SR of the next app: two seeks the index can
    -- answer directly (a row-value comparison would only seek on app).
    SELECT COALESCE(
      (SELECT n.id FROM deliveries AS n INDEXED BY deliveries_sr_pending
        WHERE n.status IN ${PENDING} AND n.app = h.app AND n.sr_number > h.sr_number
        ORDER BY n.app, n.sr_number, n.atd_activity_id, n.id LIMIT 1),
      (SELECT n.id FROM deliveries AS n INDEXED BY deliveries_sr_pending
        WHERE n.status IN ${PENDING} AND n.app > h.app
        ORDER BY n.app, n.sr_number, n.atd_activity_id, n.id LIMIT 1))
    FROM heads JOIN deliveries AS h ON h.id = heads.id
  )`

const claimCandidates = (scope: string) => `${HEADS}
  SELECT d.id FROM heads JOIN deliveries d ON d.id = heads.id
  WHERE (d.lease_until IS NULL OR d.lease_until <= @now)
    AND (d.status = 'sending' OR d.next_attempt_at <= @now)
    AND NOT ${SR_BUSY}${scope}
  ORDER BY d.next_attempt_at, d.atd_activity_id, d.id
  LIMIT @limit`

/** Exported for the test that checks its plan seeks rather than scans. */
export const CLAIM_CANDIDATES = claimCandidates('')

/** The quick claim: the heads among the CLAIM_WINDOW earliest-due pending rows (deliveries_due),
 *  each known to be its SR's head by one seek. The skip-scan above costs a seek per SR: with
 *  30,000 one-activity SRs waiting (a burst of webhooks) each claim took ~28 ms, a write that every
 *  intake commit waited behind (bench/claim-scale.ts). Whatever this finds ranks before any head
 *  outside the window (those are due no earlier), so when it finds `limit` the answer is the full
 *  claim's; when it finds fewer (e.g. a backlog behind waiting heads), the full claim runs. */
const claimInWindow = (scope: string) => `SELECT d.id FROM (
    SELECT id FROM deliveries INDEXED BY deliveries_due WHERE status IN ${PENDING}
    ORDER BY next_attempt_at LIMIT ${CLAIM_WINDOW}
  ) AS w JOIN deliveries d ON d.id = w.id
  WHERE (d.lease_until IS NULL OR d.lease_until <= @now)
    AND (d.status = 'sending' OR d.next_attempt_at <= @now)
    AND d.id = (SELECT e.id FROM deliveries AS e INDEXED BY deliveries_sr_pending
      WHERE e.status IN ${PENDING} AND e.app = d.app AND e.sr_number = d.sr_number
      ORDER BY e.app, e.sr_number, e.atd_activity_id, e.id LIMIT 1)
    AND NOT ${SR_BUSY}${scope}
  ORDER BY d.next_attempt_at, d.atd_activity_id, d.id
  LIMIT @limit`

/** Exported for the test that checks its plan seeks rather than scans. */
export const CLAIM_IN_WINDOW = claimInWindow('')

/** When each SR's head becomes claimable: its own due time or lease end, and the end of any other
 *  lease in its SR. Blocked later activities are not heads, so they never wake the worker early. */
export const NEXT_DUE = `${HEADS}
  SELECT MIN(MAX(
    CASE WHEN d.status = 'sending' THEN COALESCE(d.lease_until, 0)
         ELSE MAX(d.next_attempt_at, COALESCE(d.lease_until, 0)) END,
    COALESCE((SELECT MAX(b.lease_until) FROM deliveries b
      WHERE b.app = d.app AND b.sr_number = d.sr_number AND b.lease_until IS NOT NULL
        AND b.status IN ${PENDING} AND b.id <> d.id), 0)
  )) AS due
  FROM heads JOIN deliveries d ON d.id = heads.id`

const INSERT_COLUMNS = `(app, record_id, sr_number, atd_activity_id, content_hash, dedupe_key, source, record,
    record_origin, status, attempts, next_attempt_at, created_at, updated_at)
  VALUES (@app, @recordId, @srNumber, @atdActivityId, @contentHash, @dedupeKey, @source, @record,
    @recordOrigin, 'queued', 0, @now, @now, @now)`

export interface SqliteLedgerOptions {
  /** File path, or ':memory:'. The parent directory is created. */
  path: string
  logger: Logger
  busyTimeoutMs?: number
}

/** While writes come from many callers at once, a commit waits until this long after the previous
 *  one began, so that more writes share it. At 3,000 webhooks/s a commit per event-loop turn held
 *  2–3 writes, and each write cost 270 µs of the event loop (its share of the fsync, and of the WAL
 *  pages every commit rewrites); with the window a commit holds 5–15 and a write costs ~150 µs.
 *  After a quiet spell, or after a commit that held only one write, a write commits in the same
 *  turn as before: no delay without load, and none for one caller's writes in sequence. */
const GROUP_COMMIT_WINDOW_MS = 1

/** SQLite's page cache per connection, in KiB. */
const SQLITE_CACHE_KIB = 4096

export function openSqliteLedger(opts: SqliteLedgerOptions): Ledger {
  if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true })
  const db = new Database(opts.path)
  try {
    // Before the first table of a new file: pruned pages can then be given back bit by bit.
    prepareAutoVacuum(db)
    db.pragma('journal_mode = WAL')
    // FULL, not NORMAL: a 202 promises the delivery is on disk. In WAL mode NORMAL survives a
    // process crash but can lose the last commits on power loss; FULL costs one WAL fsync per
    // commit, which is cheap at 311-activity volumes.
    db.pragma('synchronous = FULL')
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`)
    db.pragma('foreign_keys = ON')
    // A prune writes a lot of WAL at once; past this the file is cut back after a checkpoint.
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`)
    // A 4 MiB page cache (better-sqlite3 builds SQLite with 16 MiB): the hot pages are the
    // indexes' right edges and each SR's head, the OS page cache holds the rest, and the 12 MiB
    // saved is resident memory (issue 10: peak RSS ≤ 150 MB).
    db.pragma(`cache_size = -${SQLITE_CACHE_KIB}`)
    migrateSqlite(db, opts.logger)
    adoptIncrementalVacuum(db, opts.logger)
    return new SqliteLedger(db)
  } catch (err) {
    db.close()
    throw err
  }
}

type Params = Record<string, string | number | null>

interface PendingWrite {
  run: () => unknown
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

type WriteOutcome = { ok: true; value: unknown } | { ok: false; error: unknown }

class SqliteLedger implements Ledger {
  readonly alerts: AlertStore
  private readonly s
  private readonly enqueueTx
  private readonly claimTx
  private readonly batchTx
  private readonly life: LifecycleStore
  private pending: PendingWrite[] = []
  /** When the last group commit began (performance.now()). */
  private lastFlushAt = -Infinity
  /** How many writes the last group commit held. */
  private lastBatchSize = 0

  constructor(private readonly db: Database.Database) {
    const p = (sql: string) => db.prepare<[Params], Row>(sql)
    const p0 = (sql: string) => db.prepare<[], Row>(sql)
    this.s = {
      findAny: p(`SELECT * FROM deliveries
        WHERE app = @app AND record_id = @recordId AND content_hash = @contentHash
        ORDER BY CASE WHEN status IN ${PENDING} THEN 0 ELSE 1 END, id DESC LIMIT 1`),
      findPending: p(`SELECT * FROM deliveries
        WHERE app = @app AND record_id = @recordId AND content_hash = @contentHash AND status IN ${PENDING}
        ORDER BY id DESC LIMIT 1`),
      findByKey: p(`SELECT * FROM deliveries WHERE dedupe_key = @dedupeKey`),
      insertOnce: p(`INSERT INTO deliveries ${INSERT_COLUMNS} ON CONFLICT (dedupe_key) DO NOTHING RETURNING *`),
      insertResend: p(`INSERT INTO deliveries ${INSERT_COLUMNS} RETURNING *`),
      candidates: perScope((scope) => p(claimCandidates(scope))),
      windowCandidates: perScope((scope) => p(claimInWindow(scope))),
      lease: p(`UPDATE deliveries
        SET status = CASE status WHEN 'esb_accepted' THEN 'esb_accepted' ELSE 'sending' END,
            lease_owner = @owner, lease_until = @until, updated_at = @now
        WHERE id = @id RETURNING *`),
      releaseForeign: p(`UPDATE deliveries
        SET status = CASE status WHEN 'sending' THEN 'queued' ELSE status END,
            lease_owner = NULL, lease_until = NULL, updated_at = @now
        WHERE lease_owner IS NOT NULL AND lease_owner <> @owner`),
      esbAccepted: p(`UPDATE deliveries
        SET status = 'esb_accepted', esb_response = @response, esb_request = @request, esb_accepted_at = @now, updated_at = @now,
            possible_duplicate = MAX(possible_duplicate, @possibleDuplicate)
        WHERE id = @id AND lease_owner IS @owner`),
      lateAccept: p(`UPDATE deliveries SET possible_duplicate = 1, updated_at = @now WHERE id = @id`),
      finish: p(`UPDATE deliveries
        SET status = @status, attempts = @attempts, next_attempt_at = COALESCE(@next, next_attempt_at),
            last_error = CASE WHEN @setError = 1 THEN @lastError ELSE last_error END,
            lease_owner = NULL, lease_until = NULL, updated_at = @now
        WHERE id = @id AND lease_owner IS @owner`),
      exists: p(`SELECT id FROM deliveries WHERE id = @id`),
      held: p(`SELECT * FROM deliveries WHERE id = @id AND lease_owner IS @owner`),
      sameContent: p(`SELECT * FROM deliveries
        WHERE app = @app AND record_id = @recordId AND content_hash = @contentHash AND id <> @id
        ORDER BY CASE WHEN status IN ${PENDING} THEN 0 ELSE 1 END, id DESC LIMIT 1`),
      adopt: p(`UPDATE deliveries
        SET record = @record, sr_number = @srNumber, atd_activity_id = @atdActivityId, content_hash = @contentHash,
            dedupe_key = CASE WHEN dedupe_key IS NULL THEN NULL ELSE @dedupeKey END,
            record_origin = 'knack', updated_at = @now
        WHERE id = @id RETURNING *`),
      addAttempt: p(`INSERT INTO attempts (delivery_id, n, step, outcome, detail, started_at, finished_at)
        VALUES (@deliveryId, @n, @step, @outcome, @detail, @startedAt, @finishedAt)`),
      get: p(`SELECT * FROM deliveries WHERE id = @id`),
      attempts: p(`SELECT * FROM attempts WHERE delivery_id = @id ORDER BY id`),
      requeue: p(`UPDATE deliveries
        SET status = CASE WHEN esb_accepted_at IS NOT NULL THEN 'esb_accepted' ELSE 'queued' END,
            attempts = 0, next_attempt_at = @now, lease_owner = NULL, lease_until = NULL, updated_at = @now
        WHERE id = @id AND status IN ('failed', 'dead')`),
      counts: p0(`SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status`),
      oldestPending: p0(`SELECT MIN(created_at) AS at FROM deliveries WHERE status IN ${PENDING}`),
      nextDue: p0(NEXT_DUE),
      ping: p0(`SELECT 1 AS ok`),
      summaryCounts: p0(`SELECT app, status, COUNT(*) AS n FROM deliveries GROUP BY app, status`),
      summaryOldest: p0(`SELECT app, MIN(created_at) AS at FROM deliveries WHERE status IN ${PENDING} GROUP BY app`),
      recordSweep: p(`INSERT INTO last_sweeps (app, trigger, started_at, finished_at, found, queued, duplicates, invalid, error)
        VALUES (@app, @trigger, @startedAt, @finishedAt, @found, @queued, @duplicates, @invalid, @error)
        ON CONFLICT (app) DO UPDATE SET trigger = excluded.trigger, started_at = excluded.started_at,
          finished_at = excluded.finished_at, found = excluded.found, queued = excluded.queued,
          duplicates = excluded.duplicates, invalid = excluded.invalid, error = excluded.error`),
      lastSweeps: p0(`SELECT * FROM last_sweeps ORDER BY app`),
      expireSessions: p(`DELETE FROM console_sessions WHERE seen_at <= @idleBefore OR created_at <= @ageBefore`),
      insertSession: p(`INSERT INTO console_sessions (id, operator, fingerprint, created_at, seen_at)
        VALUES (@id, @operator, @fingerprint, @createdAt, @seenAt)`),
      liveSession: p(`SELECT * FROM console_sessions WHERE id = @id AND seen_at > @idleBefore AND created_at > @ageBefore`),
      touchSession: p(`UPDATE console_sessions SET seen_at = @now WHERE id = @id AND seen_at < @now`),
      deleteSession: p(`DELETE FROM console_sessions WHERE id = @id`),
      gate: p0(`SELECT * FROM esb_gate WHERE id = 1`),
      setGate: p(`UPDATE esb_gate SET state = @state, since = @since, cause = @cause, last_error = @lastError,
          endpoint_failures = @endpointFailures, record_failures = @recordFailures, probe_at = @probeAt, updated_at = @updatedAt
        WHERE id = 1`)
    }

    this.enqueueTx = db.transaction((input: NewDelivery, mode: EnqueueMode, now: number): EnqueueResult => {
      const params: Params = {
        app: input.app,
        recordId: input.recordId,
        srNumber: input.srNumber,
        atdActivityId: input.atdActivityId,
        contentHash: input.contentHash,
        source: input.source,
        record: JSON.stringify(input.record),
        recordOrigin: input.recordOrigin ?? 'knack',
        now,
        dedupeKey: mode === 'once' ? dedupeKey(input) : mode === 'resend' ? null : replayKey(mode.replayOf)
      }
      if (typeof mode === 'object') {
        const replayed = this.s.findByKey.get(params)
        if (replayed) return { delivery: toDelivery(replayed), created: false }
      }
      const existing = (mode === 'once' ? this.s.findAny : this.s.findPending).get(params)
      if (existing) return { delivery: toDelivery(existing), created: false }
      if (mode === 'resend') return { delivery: toDelivery(must(this.s.insertResend.get(params))), created: true }
      const inserted = this.s.insertOnce.get(params)
      if (inserted) return { delivery: toDelivery(inserted), created: true }
      return { delivery: toDelivery(must(this.s.findByKey.get(params))), created: false }
    })

    this.claimTx = db.transaction((owner: string, limit: number, leaseMs: number, now: number, scope: ClaimScope): Delivery[] => {
      let ids = this.s.windowCandidates[scope].all({ now, limit }).map((r) => r.id as number)
      if (ids.length < limit) ids = this.s.candidates[scope].all({ now, limit }).map((r) => r.id as number)
      return ids.map((id) => toDelivery(must(this.s.lease.get({ id, owner, until: now + leaseMs, now }))))
    })

    // Called inside batchTx, a transaction function runs as a savepoint.
    const savepoint = db.transaction((run: () => unknown) => run())
    this.batchTx = db.transaction((batch: PendingWrite[]): WriteOutcome[] =>
      batch.map((w) => {
        try {
          return { ok: true, value: savepoint(w.run) }
        } catch (error) {
          return { ok: false, error }
        }
      })
    )
    this.alerts = createSqliteAlertStore(db, (run) => this.write(run))
    this.life = createSqliteLifecycle(db, (run) => this.write(run))
  }

  /** Queue a write for the next group commit; resolves once it is committed. */
  private write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, resolve: resolve as (value: unknown) => void, reject })
      if (this.pending.length === 1) {
        // Only while commits are shared (the last held several writes): one caller awaiting its
        // writes one after another would otherwise wait out the window at each of them.
        const wait = this.lastBatchSize > 1 ? this.lastFlushAt + GROUP_COMMIT_WINDOW_MS - performance.now() : 0
        if (wait > 0) setTimeout(() => this.flush(), wait)
        else setImmediate(() => this.flush())
      }
    })
  }

  private flush(): void {
    const batch = this.pending
    this.pending = []
    if (batch.length === 0) return
    this.lastFlushAt = performance.now()
    this.lastBatchSize = batch.length
    let outcomes: WriteOutcome[]
    try {
      outcomes = this.batchTx.immediate(batch)
    } catch (err) {
      for (const w of batch) w.reject(err)
      return
    }
    batch.forEach((w, i) => {
      const o = outcomes[i] as WriteOutcome
      if (o.ok) w.resolve(o.value)
      else w.reject(o.error)
    })
  }

  async enqueue(input: NewDelivery, mode: EnqueueMode, now: Date): Promise<EnqueueResult> {
    return this.write(() => this.enqueueTx(input, mode, now.getTime()))
  }

  async claim(owner: string, limit: number, leaseMs: number, now: Date, scope: ClaimScope = 'all'): Promise<Delivery[]> {
    if (limit <= 0) return []
    const claimed = await this.write(() => this.claimTx(owner, Math.floor(limit), leaseMs, now.getTime(), scope))
    return claimed.sort(byDueThenActivity)
  }

  async releaseForeignLeases(owner: string): Promise<number> {
    return this.write(() => this.s.releaseForeign.run({ owner, now: Date.now() }).changes)
  }

  // Each write runs in its own savepoint of the group commit: the status and its attempt row
  // commit together or not at all.
  async markEsbAccepted(id: number, accept: EsbAcceptUpdate): Promise<boolean> {
    return this.write(() => {
      const now = accept.now.getTime()
      const owned = this.s.esbAccepted.run({
        id,
        owner: accept.owner,
        response: accept.esbResponse,
        request: accept.esbRequest ?? null,
        now,
        possibleDuplicate: accept.possibleDuplicate ? 1 : 0
      }).changes > 0
      if (!owned) {
        if (!this.s.exists.get({ id })) throw new DeliveryNotFound(String(id))
        this.s.lateAccept.run({ id, now })
      }
      if (accept.attempt) this.insertAttempt(id, owned ? accept.attempt : lateAttempt(accept.attempt))
      return owned
    })
  }

  async finish(id: number, update: FinishUpdate): Promise<boolean> {
    return this.write(() => {
      const changes = this.s.finish.run({
        id,
        owner: update.owner,
        status: update.status,
        attempts: update.attempts,
        next: update.nextAttemptAt ? update.nextAttemptAt.getTime() : null,
        setError: update.lastError === undefined ? 0 : 1,
        lastError: update.lastError ?? null,
        now: update.now.getTime()
      }).changes
      if (changes === 0) {
        if (!this.s.exists.get({ id })) throw new DeliveryNotFound(String(id))
        return false
      }
      if (update.attempt) this.insertAttempt(id, update.attempt)
      return true
    })
  }

  async adoptKnackRecord(id: number, update: KnackRecordUpdate): Promise<AdoptResult> {
    // One write transaction (the file's write lock): no enqueue of the same record runs between
    // the look for a twin and the update.
    return this.write((): AdoptResult => {
      const held = this.s.held.get({ id, owner: update.owner })
      if (!held) {
        if (!this.s.exists.get({ id })) throw new DeliveryNotFound(String(id))
        return { kind: 'lost' }
      }
      const current = toDelivery(held)
      const keys = { app: current.app, recordId: current.recordId, contentHash: update.contentHash }
      const twin = this.s.sameContent.get({ ...keys, id })
      if (twin) return { kind: 'duplicate', of: toDelivery(twin) }
      const row = this.s.adopt.get({
        id,
        record: JSON.stringify(update.record),
        srNumber: update.srNumber,
        atdActivityId: update.atdActivityId,
        contentHash: update.contentHash,
        dedupeKey: dedupeKey(keys),
        now: update.now.getTime()
      })
      return { kind: 'adopted', delivery: toDelivery(must(row)) }
    })
  }

  private insertAttempt(deliveryId: number, a: AttemptRecord): void {
    this.s.addAttempt.run({
      deliveryId,
      n: a.n,
      step: a.step,
      outcome: a.outcome,
      detail: a.detail,
      startedAt: a.startedAt.getTime(),
      finishedAt: a.finishedAt.getTime()
    })
  }

  async get(id: number): Promise<Delivery | undefined> {
    const row = this.s.get.get({ id })
    return row ? toDelivery(row) : undefined
  }

  async attempts(id: number): Promise<Attempt[]> {
    return this.s.attempts.all({ id }).map(toAttempt)
  }

  // The ledger over months: sqlite-lifecycle.ts.
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
    return this.write(() => this.s.requeue.run({ id, now: now.getTime() }).changes > 0)
  }

  async countByStatus(): Promise<Record<DeliveryStatus, number>> {
    const counts = emptyCounts()
    for (const row of this.s.counts.all()) counts[row.status as DeliveryStatus] = Number(row.n)
    return counts
  }

  async oldestPending(): Promise<Date | null> {
    return toDateOrNull(this.s.oldestPending.get()?.at, 'created_at')
  }

  async nextDueAt(): Promise<Date | null> {
    return toDateOrNull(this.s.nextDue.get()?.due, 'next_attempt_at')
  }

  async ping(): Promise<void> {
    this.s.ping.get()
  }

  async appSummaries(): Promise<AppSummary[]> {
    return toAppSummaries(this.s.summaryCounts.all(), this.s.summaryOldest.all())
  }

  async recordSweep(run: SweepRun): Promise<void> {
    await this.write(() =>
      this.s.recordSweep.run({
        app: run.app,
        trigger: run.trigger,
        startedAt: run.startedAt.getTime(),
        finishedAt: run.finishedAt.getTime(),
        found: run.found,
        queued: run.queued,
        duplicates: run.duplicates,
        invalid: run.invalid,
        error: run.error
      })
    )
  }

  async lastSweeps(): Promise<SweepRun[]> {
    return this.s.lastSweeps.all().map(toSweepRun)
  }

  async createSession(session: ConsoleSession, limits: SessionLimits): Promise<void> {
    const now = session.createdAt.getTime()
    await this.write(() => {
      this.s.expireSessions.run({ idleBefore: now - limits.idleMs, ageBefore: now - limits.maxAgeMs })
      this.s.insertSession.run({
        id: session.id,
        operator: session.operator,
        fingerprint: session.fingerprint,
        createdAt: now,
        seenAt: session.seenAt.getTime()
      })
    })
  }

  async session(id: string, now: Date, limits: SessionLimits): Promise<ConsoleSession | undefined> {
    const at = now.getTime()
    const row = this.s.liveSession.get({ id, idleBefore: at - limits.idleMs, ageBefore: at - limits.maxAgeMs })
    if (!row) return undefined
    const session = toSession(row)
    if (at - session.seenAt.getTime() > limits.touchAfterMs) {
      await this.write(() => this.s.touchSession.run({ id, now: at }))
      session.seenAt = now
    }
    return session
  }

  async deleteSession(id: string): Promise<void> {
    await this.write(() => this.s.deleteSession.run({ id }))
  }

  async esbGate(): Promise<EsbGate> {
    return toEsbGate(must(this.s.gate.get()))
  }

  async updateEsbGate(change: (current: EsbGate) => EsbGate | null): Promise<{ before: EsbGate; after: EsbGate }> {
    // Inside the group commit's BEGIN IMMEDIATE: no other process writes between the read and the write.
    return this.write(() => {
      const before = toEsbGate(must(this.s.gate.get()))
      const after = change(before)
      if (after === null) return { before, after: before }
      const ms = (d: Date | null) => (d ? d.getTime() : null)
      this.s.setGate.run({
        state: after.state,
        since: ms(after.since),
        cause: after.cause,
        lastError: after.lastError,
        endpointFailures: after.endpointFailures,
        recordFailures: JSON.stringify(after.recordFailures),
        probeAt: ms(after.probeAt),
        updatedAt: ms(after.updatedAt)
      })
      return { before, after }
    })
  }

  async close(): Promise<void> {
    // Writes still waiting for their turn are committed, not dropped.
    if (this.db.open) this.flush()
    if (this.db.open) this.db.close()
  }
}

function must(row: Row | undefined): Row {
  if (!row) throw new Error('ledger: a row written in this transaction is missing')
  return row
}
