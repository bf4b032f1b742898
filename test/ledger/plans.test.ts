// Every filter of GET /deliveries, bulk retry, replay and prune is served by an index on both
// stores — shown by their query plans, not by timing. SQLite names its index explicitly
// (INDEXED BY), so its plan is the same at any size; PostgreSQL's planner is shown 100,000
// analysed rows, where a wrong plan would be a sequential scan. (`npm run bench` times the same
// queries at 1,000,000 rows.)
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import t from 'tap'
import type { DeliveryFilter } from '../../src/ledger/lifecycle-types.js'
import { openLedger } from '../../src/ledger/open.js'
import { postgresAcceptedQuery, postgresCountQuery, postgresListQuery, postgresRequeueQuery, PG_PRUNE_BATCH } from '../../src/ledger/postgres-lifecycle.js'
import {
  PRUNABLE_IDS,
  sqliteAcceptedQuery,
  sqliteCountQuery,
  sqliteListQuery,
  sqliteRetryableQuery
} from '../../src/ledger/sqlite-lifecycle.js'

const day = (n: number) => new Date(Date.parse('2026-06-01T00:00:00Z') + n * 86_400_000)

/** Each filter alone, the combinations the console uses, and all of them. */
const FILTERS: Array<[string, DeliveryFilter]> = [
  ['no filter', {}],
  ['app', { app: 'data-tracker' }],
  ['status', { status: 'dead' }],
  ['status sent', { status: 'sent' }],
  ['sr', { srNumber: 'SR-77' }],
  ['record', { recordId: 'rec-123' }],
  ['since', { since: day(80) }],
  ['until', { until: day(10) }],
  ['since and until', { since: day(20), until: day(30) }],
  ['q', { q: 'soap fault' }],
  ['app and status', { app: 'data-tracker', status: 'sent' }],
  ['app, status, window', { app: 'signs-markings', status: 'dead', since: day(5), until: day(60) }],
  ['sr and status', { srNumber: 'SR-77', status: 'sent' }],
  ['q and app', { q: 'knack', app: 'data-tracker' }],
  ['every filter', { app: 'data-tracker', status: 'dead', srNumber: 'SR-7', recordId: 'rec-7', since: day(1), until: day(90), q: 'x' }]
]

/** Filters matching a few percent of the rows or less. */
const SMALL = new Set(['status', 'sr', 'record', 'q', 'app, status, window', 'sr and status', 'q and app', 'every filter'])

t.test('SQLite: an index for every statement, no table scan, no sort for a page', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'knack311-plans-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'l.sqlite')
  await (await openLedger(`sqlite:${path}`)).close()
  const db = new Database(path, { readonly: true })
  t.teardown(() => db.close())
  const plan = (sql: string, params: Record<string, unknown>) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>).map((r) => r.detail)
  const noTableScan = (lines: string[]) => !lines.some((d) => /^SCAN deliveries(?! USING)/.test(d))

  for (const [label, filter] of FILTERS) {
    for (const before of [undefined, 42]) {
      const q = sqliteListQuery({ ...filter, limit: 100, before }, before === undefined ? undefined : day(50).getTime())
      const lines = plan(q.sql, q.params)
      t.ok(noTableScan(lines) && lines.some((d) => /USING (COVERING )?INDEX deliveries_\w+/.test(d)), `list, ${label}${before ? ', page 2' : ''}: an index`, { lines })
      t.notOk(lines.some((d) => /TEMP B-TREE/.test(d)), `list, ${label}: read in the index's order, no sort`, { lines })
    }
    const c = sqliteCountQuery(filter)
    t.ok(noTableScan(plan(c.sql, c.params)), `count, ${label}: an index`, { lines: plan(c.sql, c.params) })
  }
  for (const [label, filter] of FILTERS.filter(([, f]) => f.status === undefined || f.status === 'dead')) {
    const r = sqliteRetryableQuery(filter, { app: 'data-tracker', srNumber: 'SR-5', atdActivityId: 9, id: 99 }, 200)
    const lines = plan(r.sql, r.params)
    t.ok(lines.some((d) => /INDEX deliveries_retryable/.test(d)) && noTableScan(lines), `bulk retry, ${label}: the retryable index`, { lines })
    // With one SR or record (and no app) its few rows are sorted: that costs nothing.
    if (filter.srNumber === undefined && filter.recordId === undefined) {
      t.notOk(lines.some((d) => /TEMP B-TREE/.test(d)), `bulk retry, ${label}: in per-SR order without a sort`, { lines })
    }
  }
  const app = sqliteRetryableQuery({ app: 'data-tracker' }, { app: 'data-tracker', srNumber: 'SR-5', atdActivityId: 9, id: 99 }, 200)
  t.ok(plan(app.sql, app.params).some((d) => /deliveries_retryable \(app=\? AND \(sr_number,atd_activity_id\)>\(\?,\?\)\)/.test(d)), 'bulk retry of one app seeks to the cursor', { lines: plan(app.sql, app.params) })
  const accepted = sqliteAcceptedQuery({ app: 'data-tracker', since: day(1), until: day(2) }, { esbAcceptedAt: day(1), id: 5 }, 500)
  t.ok(plan(accepted.sql, accepted.params).some((d) => /SEARCH deliveries USING INDEX deliveries_accepted \(app=\? AND esb_accepted_at>\? AND esb_accepted_at<\?\)/.test(d)), 'replay sources: a range of the accepted index', { lines: plan(accepted.sql, accepted.params) })
  const oneSr = sqliteAcceptedQuery({ app: 'data-tracker', since: day(1), until: day(2), srNumber: 'SR-1' }, null, 500)
  t.ok(plan(oneSr.sql, oneSr.params).some((d) => /SEARCH deliveries USING INDEX deliveries_sr_created \(sr_number=\?\)/.test(d)), 'replay of one SR: the SR index')
  const prune = plan(PRUNABLE_IDS, { status: 'sent', cutoff: 1, limit: 500 })
  t.ok(prune.some((d) => /SEARCH deliveries USING COVERING INDEX deliveries_status_created \(status=\? AND created_at<\?\)/.test(d)), 'prune: a range of old sent rows', { prune })
  t.notOk(prune.some((d) => /TEMP B-TREE/.test(d)), 'prune: oldest first without a sort')
})

const pgUrl = process.env.KNACK311_TEST_PG
t.test('PostgreSQL: no sequential scan of deliveries at 100,000 analysed rows', { skip: pgUrl ? false : 'KNACK311_TEST_PG is not set: PostgreSQL plans skipped' }, async (t) => {
  const url = pgUrl as string
  const schema = `plans_${randomBytes(6).toString('hex')}`
  const ledger = await openLedger(url, { schema })
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` })
  await client.connect()
  t.teardown(async () => {
    await ledger.close()
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await client.end()
  })
  // A ledger shaped like a year of the City's: mostly sent, a few percent dead or waiting, errors only on those.
  await client.query(`
    INSERT INTO deliveries (app, record_id, sr_number, atd_activity_id, content_hash, dedupe_key, source, record,
      status, attempts, next_attempt_at, created_at, updated_at, last_error, esb_accepted_at)
    SELECT CASE WHEN g % 3 = 0 THEN 'signs-markings' ELSE 'data-tracker' END, 'rec-' || g, 'SR-' || (g % 20000), g, 'h', 'k' || g,
      'sweep', jsonb_build_object('id', 'rec-' || g),
      CASE WHEN g % 100 < 90 THEN 'sent' WHEN g % 100 < 94 THEN 'skipped' WHEN g % 100 < 97 THEN 'dead' WHEN g % 100 < 98 THEN 'failed' ELSE 'queued' END,
      1, now(), ts, ts,
      CASE WHEN g % 100 BETWEEN 94 AND 97 THEN 'ESB: SOAP fault ' || g ELSE NULL END,
      CASE WHEN g % 100 < 90 THEN ts ELSE NULL END
    FROM (SELECT g, timestamptz '2026-06-01' + (g * interval '90 seconds') AS ts FROM generate_series(1, 100000) g) s`)
  await client.query('ANALYZE deliveries')
  /** Every node of the plan, flattened. */
  const explain = async (sql: string, params: unknown[]): Promise<PlanNode[]> => {
    const res = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${sql}`, params)
    const nodes: PlanNode[] = []
    const walk = (n: PlanNode) => {
      nodes.push(n)
      for (const child of n.Plans ?? []) walk(child)
    }
    for (const root of res.rows[0]?.['QUERY PLAN'] ?? []) walk(root.Plan)
    return nodes
  }
  const seqScan = (plan: PlanNode[]) => plan.some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'deliveries')
  const indexes = (plan: PlanNode[]) => plan.map((n) => n['Index Name']).filter((i): i is string => typeof i === 'string')

  for (const [label, filter] of FILTERS) {
    for (const before of [undefined, 42]) {
      const q = postgresListQuery({ ...filter, limit: 100, before }, before === undefined ? undefined : day(50))
      const plan = await explain(q.sql, q.params)
      t.notOk(seqScan(plan), `list, ${label}${before ? ', page 2' : ''}: no sequential scan`, { plan })
      t.ok(indexes(plan).some((i) => i.startsWith('deliveries_')), `list, ${label}: ${indexes(plan).join(', ')}`)
    }
    // A count of most of the table (no filter, an app, sent) reads most of it however it is
    // done; counts that answer a question about a few rows (a dry run) must not.
    if (SMALL.has(label)) {
      const c = postgresCountQuery(filter)
      t.notOk(seqScan(await explain(c.sql, c.params)), `count, ${label}: no sequential scan`)
    }
  }
  const requeue = postgresRequeueQuery({ status: 'dead', app: 'data-tracker' }, { app: 'data-tracker', srNumber: 'SR-5', atdActivityId: 9, id: 99 }, 200, new Date())
  t.notOk(seqScan(await explain(requeue.sql, requeue.params)), 'bulk retry batch: no sequential scan')
  const accepted = postgresAcceptedQuery({ app: 'data-tracker', since: day(1), until: day(2) }, { esbAcceptedAt: day(1), id: 5 }, 500)
  t.same(indexes(await explain(accepted.sql, accepted.params)), ['deliveries_accepted'], 'replay sources: the accepted index')
  for (const status of ['sent', 'skipped']) {
    const prune = await explain(PG_PRUNE_BATCH, [day(30), 500, status])
    t.notOk(seqScan(prune), `prune batch of ${status} rows: no sequential scan`, { prune })
    // For sent (90 % of rows) the planner walks deliveries_created oldest first instead: as good.
    t.ok(indexes(prune).some((i) => i === 'deliveries_status_created' || i === 'deliveries_created'), `prune batch of ${status} rows: ${indexes(prune).join(', ')}`)
  }
})

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  Plans?: PlanNode[]
}
