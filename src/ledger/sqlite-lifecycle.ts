// The ledger over months, on SQLite: filtered pages, bulk requeue, replay sources, pruning in
// short batches with incremental space reclaim, the prune state and the actions log. Writes go
// through the ledger's group commit (`write`), so they share its transactions and its order.
import type Database from 'better-sqlite3'
import type { Logger } from 'pino'
import { afterSrCursor, filterConditions, sqliteBinds, sqliteIndexFor, whereClause } from './filter-sql.js'
import type {
  AcceptedCursor,
  AcceptedWindow,
  Action,
  DeliveryFilter,
  DeliveryPage,
  LifecycleStore,
  NewAction,
  PruneBatch,
  PruneRun,
  RequeueBatch,
  SrCursor
} from './lifecycle-types.js'
import { toAction, toDelivery, toPruneRun } from './rows.js'
import type { Row } from './rows.js'
import type { Delivery, DeliveryStatus } from './types.js'

type Params = Record<string, string | number | null>
export type GroupWrite = <T>(run: () => T) => Promise<T>

/** Statement texts depend on which filters are given: a few dozen shapes, prepared once each. */
const MAX_CACHED_STATEMENTS = 256

/** Files up to this size are switched to incremental auto-vacuum at open (a VACUUM of this
 *  much takes well under a second); a larger one is left for `knack311 prune --vacuum`. */
export const AUTO_CONVERT_MAX_BYTES = 64 * 1024 * 1024

export function createSqliteLifecycle(db: Database.Database, write: GroupWrite): LifecycleStore {
  const cache = new Map<string, Database.Statement<[Params], Row>>()
  const prepare = (sql: string) => {
    let s = cache.get(sql)
    if (!s) {
      if (cache.size >= MAX_CACHED_STATEMENTS) cache.clear()
      s = db.prepare<[Params], Row>(sql)
      cache.set(sql, s)
    }
    return s
  }
  const cursorAt = db.prepare<[Params], Row>(`SELECT created_at FROM deliveries WHERE id <= @id ORDER BY id DESC LIMIT 1`)
  const requeueIds = db.prepare<[Params], Row>(`UPDATE deliveries
    SET status = CASE WHEN esb_accepted_at IS NOT NULL THEN 'esb_accepted' ELSE 'queued' END,
        attempts = 0, next_attempt_at = @now, lease_owner = NULL, lease_until = NULL, updated_at = @now
    WHERE id IN (SELECT value FROM json_each(@ids)) AND status IN ('failed', 'dead')
    RETURNING id`)
  const prunableIds = db.prepare<[Params], Row>(PRUNABLE_IDS)
  const deleteAttempts = db.prepare<[Params]>(`DELETE FROM attempts WHERE delivery_id IN (SELECT value FROM json_each(@ids))`)
  const deleteDeliveries = db.prepare<[Params]>(`DELETE FROM deliveries WHERE id IN (SELECT value FROM json_each(@ids))
    AND status IN ('sent', 'skipped')`)
  const statusesOf = db.prepare<[Params], Row>(`SELECT status, COUNT(*) AS n FROM deliveries
    WHERE id IN (SELECT value FROM json_each(@ids)) GROUP BY status`)
  const countPrunable = db.prepare<[Params], Row>(`SELECT COUNT(*) AS n FROM deliveries INDEXED BY deliveries_status_created
    WHERE status IN ('sent', 'skipped') AND created_at < @cutoff`)
  const savePrune = db.prepare<[Params]>(`INSERT INTO prune_state (id, started_at, finished_at, cutoff, deliveries, attempts, operator, error)
    VALUES (1, @startedAt, @finishedAt, @cutoff, @deliveries, @attempts, @operator, @error)
    ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, finished_at = excluded.finished_at,
      cutoff = excluded.cutoff, deliveries = excluded.deliveries, attempts = excluded.attempts,
      operator = excluded.operator, error = excluded.error`)
  const lastPrune = db.prepare<[], Row>(`SELECT * FROM prune_state WHERE id = 1`)
  const addAction = db.prepare<[Params], Row>(`INSERT INTO actions (at, operator, kind, request, result)
    VALUES (@at, @operator, @kind, @request, @result) RETURNING *`)
  const listActions = db.prepare<[Params], Row>(`SELECT * FROM actions WHERE id < @before ORDER BY id DESC LIMIT @limit`)

  return {
    async list(filter: DeliveryFilter & DeliveryPage): Promise<Delivery[]> {
      let cursor: number | undefined
      if (filter.before !== undefined) {
        // The cursor's time: the `before` row's own, or its nearest older neighbour's when it
        // was pruned meanwhile, so paging goes on where it was.
        const at = cursorAt.get({ id: filter.before })
        if (!at) return []
        cursor = at.created_at as number
      }
      const { sql, params } = sqliteListQuery(filter, cursor)
      return prepare(sql).all(params).map(toDelivery)
    },

    async count(filter) {
      const { sql, params } = sqliteCountQuery(filter)
      return Number(prepare(sql).get(params)?.n ?? 0)
    },

    async statusesOf(ids) {
      const counts: Partial<Record<DeliveryStatus, number>> = {}
      for (let i = 0; i < ids.length; i += 500) {
        for (const row of statusesOf.all({ ids: JSON.stringify(ids.slice(i, i + 500)) })) {
          const status = row.status as DeliveryStatus
          counts[status] = (counts[status] ?? 0) + Number(row.n)
        }
      }
      return counts
    },

    requeueMatching(filter, after, limit, now) {
      return write((): RequeueBatch => {
        const { sql, params } = sqliteRetryableQuery(filter, after, limit)
        const picked = prepare(sql).all(params)
        const last = picked[picked.length - 1]
        if (!last) return { requeued: [], next: null }
        const changed = new Set(requeueIds.all({ ids: JSON.stringify(picked.map((r) => r.id)), now: now.getTime() }).map((r) => r.id as number))
        return {
          // In the order they were picked: per-SR order.
          requeued: picked.map((r) => r.id as number).filter((id) => changed.has(id)),
          next: picked.length < limit ? null : srCursor(last)
        }
      })
    },

    async acceptedIn(window: AcceptedWindow, after: AcceptedCursor | null, limit: number) {
      const { sql, params } = sqliteAcceptedQuery(window, after, limit)
      return prepare(sql).all(params).map(toDelivery)
    },

    async countPrunable(cutoff) {
      return Number(countPrunable.get({ cutoff: cutoff.getTime() })?.n ?? 0)
    },

    pruneBatch(status, cutoff, limit) {
      return write((): PruneBatch => {
        const ids = JSON.stringify(prunableIds.all({ status, cutoff: cutoff.getTime(), limit: Math.max(1, Math.floor(limit)) }).map((r) => r.id))
        const attempts = deleteAttempts.run({ ids }).changes
        const deliveries = deleteDeliveries.run({ ids }).changes
        return { deliveries, attempts }
      })
    },

    reclaimSpace(maxPages) {
      return write(() => {
        if (db.pragma('auto_vacuum', { simple: true }) !== INCREMENTAL) return 0
        const before = Number(db.pragma('freelist_count', { simple: true }))
        db.pragma(`incremental_vacuum(${Math.max(1, Math.floor(maxPages))})`)
        return before - Number(db.pragma('freelist_count', { simple: true }))
      })
    },

    async enableIncrementalVacuum() {
      if (db.memory) return 'not_applicable'
      if (db.pragma('auto_vacuum', { simple: true }) === INCREMENTAL) return 'already'
      // Outside any transaction (VACUUM cannot run in one): writes queued for the group commit
      // wait for the next turn of the event loop, and this runs synchronously before it.
      convertToIncremental(db)
      return 'converted'
    },

    recordPrune(run: PruneRun) {
      return write(() => {
        savePrune.run({
          startedAt: run.startedAt.getTime(),
          finishedAt: run.finishedAt.getTime(),
          cutoff: run.cutoff.getTime(),
          deliveries: run.deliveries,
          attempts: run.attempts,
          operator: run.operator,
          error: run.error
        })
      })
    },

    async lastPrune() {
      const row = lastPrune.get()
      return row ? toPruneRun(row) : null
    },

    addAction(action: NewAction): Promise<Action> {
      return write(() => {
        const row = addAction.get({
          at: action.at.getTime(),
          operator: action.operator,
          kind: action.kind,
          request: JSON.stringify(action.request),
          result: JSON.stringify(action.result)
        })
        if (!row) throw new Error('ledger: the action just written is missing')
        return toAction(row)
      })
    },

    async listActions(page) {
      return listActions
        .all({ before: page.before ?? Number.MAX_SAFE_INTEGER, limit: Math.max(0, Math.floor(page.limit)) })
        .map(toAction)
    }
  }
}

// The statements whose shape depends on the filter, exported for the test that reads their plans.

export interface SqlWithParams {
  sql: string
  params: Params
}

/** A page of GET /deliveries; `cursorCreatedAt` is the `before` row's created_at. */
export function sqliteListQuery(filter: DeliveryFilter & DeliveryPage, cursorCreatedAt: number | undefined): SqlWithParams {
  const { dialect, params } = sqliteBinds()
  const where = filterConditions(filter, dialect)
  if (filter.before !== undefined && cursorCreatedAt !== undefined) {
    const c = dialect.bind(cursorCreatedAt)
    where.push(`created_at <= ${c} AND (created_at < ${c} OR id < ${dialect.bind(filter.before)})`)
  }
  const limit = dialect.bind(Math.max(0, Math.floor(filter.limit)))
  return {
    sql: `SELECT * FROM deliveries INDEXED BY ${sqliteIndexFor(filter)} ${whereClause(where)}
      ORDER BY created_at DESC, id DESC LIMIT ${limit}`,
    params
  }
}

export function sqliteCountQuery(filter: DeliveryFilter): SqlWithParams {
  const { dialect, params } = sqliteBinds()
  return { sql: `SELECT COUNT(*) AS n FROM deliveries INDEXED BY ${sqliteIndexFor(filter)} ${whereClause(filterConditions(filter, dialect))}`, params }
}

/** The next batch of bulk retry, in per-SR order. */
export function sqliteRetryableQuery(filter: DeliveryFilter, after: SrCursor | null, limit: number): SqlWithParams {
  const { dialect, params } = sqliteBinds()
  // Literal, so the partial index deliveries_retryable applies; a status filter narrows it.
  const where = [`status IN ('failed', 'dead')`, ...filterConditions(filter, dialect)]
  if (after) where.push(afterSrCursor(after, filter.app !== undefined, dialect))
  return {
    sql: `SELECT id, app, sr_number, atd_activity_id FROM deliveries INDEXED BY deliveries_retryable
      ${whereClause(where)} ORDER BY app, sr_number, atd_activity_id, id LIMIT ${dialect.bind(Math.max(1, Math.floor(limit)))}`,
    params
  }
}

/** A page of replay sources. */
export function sqliteAcceptedQuery(window: AcceptedWindow, after: AcceptedCursor | null, limit: number): SqlWithParams {
  const { dialect, params } = sqliteBinds()
  const where = [
    `app = ${dialect.bind(window.app)}`,
    `esb_accepted_at IS NOT NULL`,
    `esb_accepted_at >= ${dialect.bind(window.since)}`,
    `esb_accepted_at < ${dialect.bind(window.until)}`
  ]
  if (window.srNumber !== undefined) where.push(`sr_number = ${dialect.bind(window.srNumber)}`)
  if (after) {
    const c = dialect.bind(after.esbAcceptedAt)
    where.push(`esb_accepted_at >= ${c} AND (esb_accepted_at > ${c} OR id > ${dialect.bind(after.id)})`)
  }
  // An SR has a handful of rows: its index beats a range over every app's accepted rows.
  const index = window.srNumber !== undefined ? 'deliveries_sr_created' : 'deliveries_accepted'
  return {
    sql: `SELECT * FROM deliveries INDEXED BY ${index} ${whereClause(where)}
      ORDER BY esb_accepted_at, id LIMIT ${dialect.bind(Math.max(1, Math.floor(limit)))}`,
    params
  }
}

/** Exported for the plan test: the statement a prune batch selects its rows with. */
export const PRUNABLE_IDS = `SELECT id FROM deliveries INDEXED BY deliveries_status_created
    WHERE status = @status AND created_at < @cutoff ORDER BY created_at LIMIT @limit`

/** PRAGMA auto_vacuum: 0 none, 1 full, 2 incremental. */
const INCREMENTAL = 2

function srCursor(row: Row): SrCursor {
  return { app: row.app as string, srNumber: row.sr_number as string, atdActivityId: Number(row.atd_activity_id), id: Number(row.id) }
}

function convertToIncremental(db: Database.Database): void {
  db.pragma('auto_vacuum = INCREMENTAL')
  db.exec('VACUUM')
}

/**
 * At open: a new file gets incremental auto-vacuum before its first table (the setting only
 * takes without a VACUUM on an empty file); an existing file without it is converted when it is
 * small enough to VACUUM in a moment, else a warning names the command that does it.
 */
export function prepareAutoVacuum(db: Database.Database): void {
  if (!db.memory) db.pragma('auto_vacuum = INCREMENTAL')
}

export function adoptIncrementalVacuum(db: Database.Database, logger: Logger): void {
  if (db.memory || db.pragma('auto_vacuum', { simple: true }) === INCREMENTAL) return
  const bytes = Number(db.pragma('page_count', { simple: true })) * Number(db.pragma('page_size', { simple: true }))
  if (bytes > AUTO_CONVERT_MAX_BYTES) {
    logger.warn(
      { megabytes: Math.round(bytes / 1048576) },
      'the ledger file does not give pruned space back to the disk (no incremental auto-vacuum); pruned pages are reused, and `knack311 prune --vacuum` with the service stopped converts it once'
    )
    return
  }
  try {
    convertToIncremental(db)
    logger.info({ megabytes: Math.round(bytes / 1048576) }, 'ledger file switched to incremental auto-vacuum')
  } catch (err) {
    // Another process holds the file: the next start tries again; nothing depends on it.
    logger.warn({ err: (err as Error).message }, 'ledger file not switched to incremental auto-vacuum this time')
  }
}
