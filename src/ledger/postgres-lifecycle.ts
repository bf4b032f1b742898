// The ledger over months, on PostgreSQL: the same operations as sqlite-lifecycle.ts, each one
// statement (so one short transaction). Conditional updates and SKIP LOCKED make concurrent
// callers — two replicas pruning, two operators retrying the same rows — do each row once.
import type pg from 'pg'
import { afterSrCursor, filterConditions, postgresBinds, whereClause } from './filter-sql.js'
import type { AcceptedCursor, AcceptedWindow, DeliveryFilter, DeliveryPage, LifecycleStore, PruneRun, RequeueBatch, SrCursor } from './lifecycle-types.js'
import { toAction, toDelivery, toPruneRun } from './rows.js'
import type { Row } from './rows.js'
import type { DeliveryStatus } from './types.js'

export function createPostgresLifecycle(pool: pg.Pool): LifecycleStore {
  return {
    async list(filter) {
      let cursor: Date | undefined
      if (filter.before !== undefined) {
        // The `before` row's time, or its nearest older neighbour's when it was pruned meanwhile.
        const at = await pool.query<Row>('SELECT created_at FROM deliveries WHERE id <= $1 ORDER BY id DESC LIMIT 1', [filter.before])
        const createdAt = at.rows[0]?.created_at
        if (!(createdAt instanceof Date)) return []
        cursor = createdAt
      }
      const { sql, params } = postgresListQuery(filter, cursor)
      const res = await pool.query<Row>(sql, params)
      return res.rows.map(toDelivery)
    },

    async count(filter) {
      const { sql, params } = postgresCountQuery(filter)
      const res = await pool.query<{ n: string }>(sql, params)
      return Number(res.rows[0]?.n ?? 0)
    },

    async statusesOf(ids) {
      const counts: Partial<Record<DeliveryStatus, number>> = {}
      if (ids.length === 0) return counts
      const res = await pool.query<{ status: DeliveryStatus; n: string }>(
        'SELECT status, COUNT(*) AS n FROM deliveries WHERE id = ANY($1::bigint[]) GROUP BY status',
        [ids]
      )
      for (const row of res.rows) counts[row.status] = Number(row.n)
      return counts
    },

    async requeueMatching(filter, after, limit, now): Promise<RequeueBatch> {
      const n = Math.max(1, Math.floor(limit))
      const { sql, params } = postgresRequeueQuery(filter, after, n, now)
      const res = await pool.query<Row>(sql, params)
      const last = res.rows[res.rows.length - 1]
      return {
        requeued: res.rows.filter((r) => r.requeued === true).map((r) => Number(r.id)),
        next:
          last && res.rows.length >= n
            ? { app: String(last.app), srNumber: String(last.sr_number), atdActivityId: Number(last.atd_activity_id), id: Number(last.id) }
            : null
      }
    },

    async acceptedIn(window, after, limit) {
      const { sql, params } = postgresAcceptedQuery(window, after, limit)
      const res = await pool.query<Row>(sql, params)
      return res.rows.map(toDelivery)
    },

    async countPrunable(cutoff) {
      const res = await pool.query<{ n: string }>(
        `SELECT COUNT(*) AS n FROM deliveries WHERE status IN ('sent', 'skipped') AND created_at < $1`,
        [cutoff]
      )
      return Number(res.rows[0]?.n ?? 0)
    },

    async pruneBatch(status, cutoff, limit) {
      const res = await pool.query<{ deliveries: string; attempts: string }>(PG_PRUNE_BATCH, [cutoff, Math.max(1, Math.floor(limit)), status])
      return { deliveries: Number(res.rows[0]?.deliveries ?? 0), attempts: Number(res.rows[0]?.attempts ?? 0) }
    },

    // PostgreSQL's autovacuum makes deleted rows' space reusable; nothing to do here.
    reclaimSpace: async () => 0,
    enableIncrementalVacuum: async () => 'not_applicable',

    async recordPrune(run: PruneRun) {
      await pool.query(
        `INSERT INTO prune_state (id, started_at, finished_at, cutoff, deliveries, attempts, operator, error)
         VALUES (1, $1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, finished_at = excluded.finished_at,
           cutoff = excluded.cutoff, deliveries = excluded.deliveries, attempts = excluded.attempts,
           operator = excluded.operator, error = excluded.error`,
        [run.startedAt, run.finishedAt, run.cutoff, run.deliveries, run.attempts, run.operator, run.error]
      )
    },

    async lastPrune() {
      const res = await pool.query<Row>('SELECT * FROM prune_state WHERE id = 1')
      return res.rows[0] ? toPruneRun(res.rows[0]) : null
    },

    async addAction(action) {
      const res = await pool.query<Row>(
        `INSERT INTO actions (at, operator, kind, request, result) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
        [action.at, action.operator, action.kind, JSON.stringify(action.request), JSON.stringify(action.result)]
      )
      if (!res.rows[0]) throw new Error('ledger: the action just written is missing')
      return toAction(res.rows[0])
    },

    async listActions(page) {
      const res = await pool.query<Row>(
        'SELECT * FROM actions WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2',
        [page.before ?? null, Math.max(0, Math.floor(page.limit))]
      )
      return res.rows.map(toAction)
    }
  }
}

// The statements whose shape depends on the filter, exported for the test that reads their plans.

export interface PgSqlWithParams {
  sql: string
  params: unknown[]
}

export function postgresListQuery(filter: DeliveryFilter & DeliveryPage, cursorCreatedAt: Date | undefined): PgSqlWithParams {
  const { dialect, params } = postgresBinds()
  const where = filterConditions(filter, dialect)
  if (filter.before !== undefined && cursorCreatedAt !== undefined) {
    const c = dialect.bind(cursorCreatedAt)
    where.push(`created_at <= ${c} AND (created_at, id) < (${c}, ${dialect.bind(filter.before)})`)
  }
  const limit = dialect.bind(Math.max(0, Math.floor(filter.limit)))
  return { sql: `SELECT * FROM deliveries ${whereClause(where)} ORDER BY created_at DESC, id DESC LIMIT ${limit}`, params }
}

export function postgresCountQuery(filter: DeliveryFilter): PgSqlWithParams {
  const { dialect, params } = postgresBinds()
  return { sql: `SELECT COUNT(*) AS n FROM deliveries ${whereClause(filterConditions(filter, dialect))}`, params }
}

export function postgresAcceptedQuery(window: AcceptedWindow, after: AcceptedCursor | null, limit: number): PgSqlWithParams {
  const { dialect, params } = postgresBinds()
  const where = [
    `app = ${dialect.bind(window.app)}`,
    `esb_accepted_at >= ${dialect.bind(window.since)}`,
    `esb_accepted_at < ${dialect.bind(window.until)}`
  ]
  if (window.srNumber !== undefined) where.push(`sr_number = ${dialect.bind(window.srNumber)}`)
  if (after) where.push(`(esb_accepted_at, id) > (${dialect.bind(after.esbAcceptedAt)}, ${dialect.bind(after.id)})`)
  return {
    sql: `SELECT * FROM deliveries ${whereClause(where)} ORDER BY esb_accepted_at, id LIMIT ${dialect.bind(Math.max(1, Math.floor(limit)))}`,
    params
  }
}

/** One batch of bulk retry. The UPDATE re-checks the status on the row version it locks: a row
 *  another caller requeued meanwhile is left alone, so two identical requests queue each row once. */
export function postgresRequeueQuery(filter: DeliveryFilter, after: SrCursor | null, limit: number, now: Date): PgSqlWithParams {
  const { dialect, params } = postgresBinds()
  const where = [`status IN ('failed', 'dead')`, ...filterConditions(filter, dialect)]
  if (after) where.push(afterSrCursor(after, filter.app !== undefined, dialect))
  return {
    sql: `WITH picked AS (
        SELECT id, app, sr_number, atd_activity_id FROM deliveries ${whereClause(where)}
        ORDER BY app, sr_number, atd_activity_id, id LIMIT ${dialect.bind(limit)}),
      changed AS (
        UPDATE deliveries u
        SET status = CASE WHEN u.esb_accepted_at IS NOT NULL THEN 'esb_accepted' ELSE 'queued' END,
            attempts = 0, next_attempt_at = ${dialect.bind(now)}, lease_owner = NULL, lease_until = NULL,
            updated_at = ${dialect.bind(now)}
        FROM picked WHERE u.id = picked.id AND u.status IN ('failed', 'dead')
        RETURNING u.id)
      SELECT p.id, p.app, p.sr_number, p.atd_activity_id, c.id IS NOT NULL AS requeued
      FROM picked p LEFT JOIN changed c ON c.id = p.id
      ORDER BY p.app, p.sr_number, p.atd_activity_id, p.id`,
    params
  }
}

/** A prune batch (exported for the plan test). SKIP LOCKED: replicas pruning at the same time
 *  take different rows instead of waiting for each other. */
export const PG_PRUNE_BATCH = `WITH doomed AS (
    SELECT id FROM deliveries WHERE status = $3 AND created_at < $1
    ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED),
  a AS (DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM doomed) RETURNING 1),
  d AS (DELETE FROM deliveries WHERE id IN (SELECT id FROM doomed) AND status IN ('sent', 'skipped') RETURNING 1)
  SELECT (SELECT COUNT(*) FROM d) AS deliveries, (SELECT COUNT(*) FROM a) AS attempts`
