// The claim finds each service request's head by seeking through the partial index, so a deep
// backlog behind a few waiting heads costs no more than the heads. Checked by behaviour on both
// stores, across two apps (the app-to-app step of the skip-scan), and for SQLite by the query
// plan — not by time.
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import t, { type Test } from 'tap'
import { openLedger } from '../../src/ledger/open.js'
import { CLAIM_CANDIDATES, CLAIM_IN_WINDOW, NEXT_DUE } from '../../src/ledger/sqlite-ledger.js'
import { CLAIM_WINDOW } from '../../src/ledger/sql.js'
import type { Ledger } from '../../src/ledger/types.js'

const HOUR = 3_600_000
const now = new Date('2026-11-28T12:00:00Z')

async function headsBehaviour(t: Test, ledger: Ledger) {
  const rows: Array<{ app: string; sr: string; atd: number }> = []
  for (const app of ['data-tracker', 'signs-markings']) {
    for (const sr of ['SR-1', 'SR-2', 'SR-3']) for (let i = 0; i < 20; i++) rows.push({ app, sr, atd: 1000 + ((i * 7) % 20) * 100 })
  }
  // Inserted in an order unrelated to atd_activity_id.
  for (const [k, r] of rows.entries()) {
    await ledger.enqueue({ app: r.app, recordId: `rec-${k}`, srNumber: r.sr, atdActivityId: r.atd + k, contentHash: `h${k}`, source: 'sweep', record: { id: `rec-${k}` } }, 'once', now)
  }
  const heads = await ledger.claim('w1', 100, 60_000, now)
  t.equal(heads.length, 6, 'one head per (app, SR)')
  for (const h of heads) {
    const lowest = Math.min(...rows.map((r, k) => ({ ...r, atd: r.atd + k })).filter((r) => r.app === h.app && r.sr === h.srNumber).map((r) => r.atd))
    t.equal(h.atdActivityId, lowest, `${h.app} ${h.srNumber}: the earliest activity`)
  }
  t.same(await ledger.claim('w2', 100, 60_000, now), [], 'nothing else while the heads are leased')

  const later = new Date(now.getTime() + HOUR)
  for (const h of heads) await ledger.finish(h.id, { owner: 'w1', status: 'failed', attempts: 1, nextAttemptAt: later, lastError: 'ESB down', now })
  t.same(await ledger.claim('w2', 100, 60_000, now), [], 'failed heads waiting for their retry block the 114 behind them')
  t.equal((await ledger.nextDueAt())?.getTime(), later.getTime(), "the next due time is the heads' retry time")
  const again = await ledger.claim('w2', 100, 60_000, later)
  t.same(again.map((d) => d.id).sort(), heads.map((d) => d.id).sort(), 'at that time the same six heads come back')
}

/** More earliest-due rows than the claim's quick window (both stores), none of them a head: the head
 *  behind them must still be found (the quick claim falls back to the skip-scan). */
async function beyondTheWindow(t: Test, ledger: Ledger) {
  const waiting = CLAIM_WINDOW + 44
  for (let k = 0; k < waiting; k++) {
    await ledger.enqueue({ app: 'data-tracker', recordId: `deep-${k}`, srNumber: 'SR-DEEP', atdActivityId: 5000 + k, contentHash: `d${k}`, source: 'sweep', record: { id: `deep-${k}` } }, 'once', now)
  }
  const later = new Date(now.getTime() + 1000)
  await ledger.enqueue({ app: 'data-tracker', recordId: 'lone', srNumber: 'SR-LONE', atdActivityId: 1, contentHash: 'lone', source: 'sweep', record: { id: 'lone' } }, 'once', later)
  const [head] = await ledger.claim('w1', 1, 60_000, later)
  t.equal(head?.recordId, 'deep-0', "the deep SR's head comes first (earliest due)")
  const [next] = await ledger.claim('w1', 1, 60_000, later)
  t.equal(next?.recordId, 'lone', `with ${waiting} rows of a leased SR due before it, the lone SR's head is still claimed`)
  t.same(await ledger.claim('w1', 5, 60_000, later), [], 'and nothing else: the rest wait behind their leased head')
}

t.test('beyond the quick window: SQLite', async (t) => {
  const ledger = await openLedger('sqlite::memory:')
  t.teardown(() => ledger.close())
  await beyondTheWindow(t, ledger)
})

t.test('SQLite', async (t) => {
  const path = join(mkdtempSync(join(tmpdir(), 'knack311-heads-')), 'l.sqlite')
  const ledger = await openLedger(`sqlite:${path}`)
  t.teardown(() => ledger.close())
  await headsBehaviour(t, ledger)

  // The plan: seeks on (app, sr_number) through the partial index; no scan of the deliveries table.
  const db = new Database(path, { readonly: true })
  t.teardown(() => db.close())
  for (const [name, sql] of [['claim', CLAIM_CANDIDATES], ['next due', NEXT_DUE]] as const) {
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ now: now.getTime(), limit: 10 }) as Array<{ detail: string }>).map((r) => r.detail)
    t.ok(plan.some((d) => /USING INDEX deliveries_sr_pending \(app=\? AND sr_number>\?\)/.test(d)), `${name}: seeks the next SR`, { plan })
    t.notOk(plan.some((d) => /^SCAN (d|deliveries|n|b|e)\b(?! USING)/.test(d)), `${name}: no full table scan`, { plan })
  }
  // The quick claim: the earliest due rows off deliveries_due, each head checked by one seek.
  const quick = (db.prepare(`EXPLAIN QUERY PLAN ${CLAIM_IN_WINDOW}`).all({ now: now.getTime(), limit: 10 }) as Array<{ detail: string }>).map((r) => r.detail)
  t.ok(quick.some((d) => /SCAN deliveries USING INDEX deliveries_due/.test(d)), 'quick claim: walks deliveries_due in order', { plan: quick })
  t.ok(quick.some((d) => /USING INDEX deliveries_sr_pending \(app=\? AND sr_number=\?\)/.test(d)), "quick claim: one seek for each row's SR head", { plan: quick })
  t.notOk(quick.some((d) => /^SCAN (d|deliveries|n|b|e)\b(?! USING)/.test(d)), 'quick claim: no full table scan', { plan: quick })
})

const pgUrl = process.env.KNACK311_TEST_PG
t.test('PostgreSQL', { skip: pgUrl ? false : 'KNACK311_TEST_PG is not set: PostgreSQL heads test skipped' }, async (t) => {
  const schema = `heads_${randomBytes(6).toString('hex')}`
  const ledger = await openLedger(`${pgUrl}${pgUrl?.includes('?') ? '&' : '?'}schema=${schema}`)
  t.teardown(async () => {
    await ledger.close()
    const client = new pg.Client({ connectionString: pgUrl })
    await client.connect()
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await client.end()
  })
  await headsBehaviour(t, ledger)
  await beyondTheWindow(t, ledger)
})
