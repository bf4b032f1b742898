// (5) The ledger over months: GET /deliveries with each filter at 1,000,000+ rows (p99 ≤ 50 ms),
// then a prune of 1,000,000 old rows by the service's own retention at start-up while /healthz is
// asked every 20 ms (p99 ≤ 100 ms). The rows are written straight into a SQLite file made by
// openLedger (so with every migration and index), shaped like a year of the City's activities.
import { statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { request } from 'undici'
import { openLedger } from '../src/ledger/open.js'
import { startStack } from '../src/sandbox/stack.js'
import { spawnService, type ServiceChild } from './proc.js'
import { percentile, round, sleep } from './stats.js'

const DAY = 86_400_000

export interface LedgerScenario {
  /** Old sent/skipped rows (older than RETENTION): what the prune deletes. */
  oldRows: number
  /** Rows of the last 90 days, in every status. */
  youngRows: number
  /** Requests per filter. */
  perFilter: number
  pruneDeadlineMs: number
}

export interface FilterTiming {
  name: string
  url: string
  rows: number
  p50Ms: number
  p99Ms: number
}

export interface LedgerBenchResult {
  scenario: LedgerScenario
  totalRows: number
  buildSeconds: number
  fileMBBefore: number
  filters: FilterTiming[]
  /** Over every filtered request. */
  findP99Ms: number
  csv: { rows: number; seconds: number; rowsPerSecond: number }
  prune: {
    deleted: number
    attempts: number
    seconds: number
    rowsPerSecond: number
    finished: boolean
    healthSamples: number
    healthP50Ms: number
    healthP99Ms: number
    healthMaxMs: number
    fileMBAfter: number
  }
}

/** Rows straight into the file, in large transactions of generated SQL: minutes of webhooks otherwise. */
function fill(path: string, s: LedgerScenario, now: number): void {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  const insert = db.prepare(`WITH RECURSIVE seq(n) AS (SELECT @from UNION ALL SELECT n + 1 FROM seq WHERE n < @to),
    shaped AS (
      SELECT n,
        CAST(CASE WHEN n <= @old THEN @now - 100 * ${DAY} - ((@old - n) * (265 * ${DAY}) / @old)
             ELSE @now - ((@total - n) * (89 * ${DAY}) / @young) END AS INTEGER) AS at,
        CASE WHEN n <= @old THEN (CASE WHEN n % 20 = 0 THEN 'skipped' ELSE 'sent' END)
             WHEN n % 100 < 88 THEN 'sent' WHEN n % 100 < 92 THEN 'skipped' WHEN n % 100 < 97 THEN 'dead'
             WHEN n % 100 < 99 THEN 'failed' ELSE 'queued' END AS status
      FROM seq)
    INSERT INTO deliveries (app, record_id, sr_number, atd_activity_id, content_hash, dedupe_key, source, record,
      status, attempts, next_attempt_at, last_error, esb_response, esb_accepted_at, created_at, updated_at)
    SELECT CASE WHEN n % 3 = 0 THEN 'signs-markings' ELSE 'data-tracker' END, printf('rec%08d', n), printf('SR-%06d', n % 50000), n,
      'h', 'k' || n, 'sweep', json_object('id', printf('rec%08d', n), 'field_1055', 'Checked the signal timing at the corner'),
      status, 1,
      CASE WHEN status IN ('failed', 'queued') THEN CAST(@now + 365 * ${DAY} AS INTEGER) ELSE at END,
      CASE WHEN status = 'dead' THEN printf('ESB: HTTP 400 env:Client: Invalid activity code %d', n % 97)
           WHEN status = 'failed' THEN 'Knack status update: HTTP 503 Service Unavailable' END,
      CASE WHEN status = 'sent' THEN '<ok/>' END,
      CASE WHEN status = 'sent' THEN at + 2000 END,
      at, at
    FROM shaped`)
  const attempts = db.prepare(`INSERT INTO attempts (delivery_id, n, step, outcome, detail, started_at, finished_at)
    SELECT id, 1, 'esb', 'accepted', 'HTTP 200', created_at, created_at + 300 FROM deliveries WHERE id BETWEEN @from AND @to`)
  const total = s.oldRows + s.youngRows
  const chunk = 100_000
  for (let from = 1; from <= total; from += chunk) {
    const to = Math.min(total, from + chunk - 1)
    db.transaction(() => {
      insert.run({ from, to, old: s.oldRows, young: s.youngRows, total, now })
      attempts.run({ from, to })
    })()
  }
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.exec('ANALYZE')
  db.close()
}

async function timed(url: string, token: string): Promise<{ ms: number; rows: number }> {
  const t0 = performance.now()
  const res = await request(url, { headers: { authorization: `Bearer ${token}` } })
  const body = await res.body.text()
  const ms = performance.now() - t0
  if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}: ${body.slice(0, 200)}`)
  return { ms, rows: url.includes('.csv') ? body.split('\r\n').length - 2 : (JSON.parse(body) as unknown[]).length }
}

const sizeMB = (path: string) => (statSync(path).size + (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0)) / 1_048_576

export async function runLedgerBench(s: LedgerScenario, log: (line: string) => void): Promise<LedgerBenchResult> {
  const stack = await startStack({ buildService: false })
  const path = join(stack.dir, 'ledger-bench.sqlite')
  const now = Date.now()
  let service: ServiceChild | undefined
  try {
    await (await openLedger(`sqlite:${path}`)).close()
    const t0 = performance.now()
    fill(path, s, now)
    const buildSeconds = (performance.now() - t0) / 1000
    const totalRows = s.oldRows + s.youngRows
    const fileMBBefore = sizeMB(path)
    log(`ledger: ${totalRows.toLocaleString('en-US')} rows written in ${buildSeconds.toFixed(0)} s (${fileMBBefore.toFixed(0)} MB)`)

    // Find: RETENTION off, so nothing is pruned under the measurement.
    const env = { ...stack.env, DATABASE_URL: `sqlite:${path}`, RETENTION: 'off' }
    service = await spawnService(env)
    const token = stack.env.ADMIN_TOKEN ?? ''
    const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString())
    const deep = s.oldRows + Math.floor(s.youngRows / 2)
    const filters: Array<[string, string]> = [
      ['newest page, no filter', '/deliveries'],
      ['app', '/deliveries?app=signs-markings'],
      ['status dead', '/deliveries?status=dead'],
      ['status sent, a page deep in the year', `/deliveries?status=sent&before=${Math.floor(s.oldRows / 2)}`],
      ['sr', '/deliveries?sr=SR-012345'],
      ['record', `/deliveries?record=rec${String(deep).padStart(8, '0')}`],
      ['since (relative)', '/deliveries?since=7d'],
      ['since and until, 200 days ago', `/deliveries?since=${iso(now - 200 * DAY)}&until=${iso(now - 190 * DAY)}`],
      ['q (text in the last error)', '/deliveries?q=invalid%20activity%20code%2042'],
      ['app, status, window', `/deliveries?app=data-tracker&status=dead&since=${iso(now - 60 * DAY)}&until=${iso(now - 30 * DAY)}`],
      ['sr and status', '/deliveries?sr=SR-004242&status=sent'],
      ['q, app and since', '/deliveries?q=knack&app=signs-markings&since=30d'],
      ['page 2 of a filter', `/deliveries?status=skipped&before=${deep}`]
    ]
    for (const [, url] of filters) await timed(`${service.url}${url}`, token) // warm-up: JIT, page cache
    const timings: FilterTiming[] = []
    const all: number[] = []
    for (const [name, url] of filters) {
      const ms: number[] = []
      let rows = 0
      for (let i = 0; i < s.perFilter; i++) {
        const r = await timed(`${service.url}${url}${url.includes('?') ? '&' : '?'}limit=100`, token)
        ms.push(r.ms)
        rows = r.rows
      }
      all.push(...ms)
      timings.push({ name, url, rows, p50Ms: round(percentile(ms, 50), 2), p99Ms: round(percentile(ms, 99), 2) })
      log(`ledger: ${name}: ${rows} rows, p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms`)
    }
    const c0 = performance.now()
    const csvRows = (await timed(`${service.url}/deliveries.csv?status=sent&limit=20000`, token)).rows
    const csvSeconds = (performance.now() - c0) / 1000
    log(`ledger: CSV of ${csvRows.toLocaleString('en-US')} rows streamed in ${csvSeconds.toFixed(2)} s`)
    await service.stop()
    service = undefined

    // Prune: the service's own start-up prune with RETENTION=90d takes every old row.
    service = await spawnService({ ...env, RETENTION: '90d' })
    const state = new Database(path, { readonly: true, fileMustExist: true })
    const health: number[] = []
    const p0 = performance.now()
    let finished = false
    let last: { deliveries: number; attempts: number } | undefined
    const deadline = Date.now() + s.pruneDeadlineMs
    while (Date.now() < deadline) {
      const h0 = performance.now()
      const res = await request(`${service.url}/healthz`)
      await res.body.dump()
      health.push(performance.now() - h0)
      if (health.length % 25 === 0) {
        last = state.prepare('SELECT deliveries, attempts FROM prune_state WHERE id = 1').get() as typeof last
        if (last) {
          finished = true
          break
        }
      }
      await sleep(20)
    }
    const seconds = (performance.now() - p0) / 1000
    state.close()
    await service.stop()
    service = undefined
    const deleted = last?.deliveries ?? 0
    log(`ledger: prune of ${deleted.toLocaleString('en-US')} rows in ${seconds.toFixed(0)} s; /healthz p50 ${percentile(health, 50).toFixed(1)} ms, p99 ${percentile(health, 99).toFixed(1)} ms, max ${Math.max(...health).toFixed(0)} ms over ${health.length} requests; file ${fileMBBefore.toFixed(0)} → ${sizeMB(path).toFixed(0)} MB`)
    return {
      scenario: s,
      totalRows,
      buildSeconds: round(buildSeconds),
      fileMBBefore: round(fileMBBefore),
      filters: timings,
      findP99Ms: round(percentile(all, 99), 2),
      csv: { rows: csvRows, seconds: round(csvSeconds, 2), rowsPerSecond: Math.round(csvRows / csvSeconds) },
      prune: {
        deleted,
        attempts: last?.attempts ?? 0,
        seconds: round(seconds),
        rowsPerSecond: Math.round(deleted / seconds),
        finished,
        healthSamples: health.length,
        healthP50Ms: round(percentile(health, 50), 2),
        healthP99Ms: round(percentile(health, 99), 2),
        healthMaxMs: round(Math.max(...health), 1),
        fileMBAfter: round(sizeMB(path))
      }
    }
  } finally {
    await service?.stop()
    await stack.close()
  }
}
