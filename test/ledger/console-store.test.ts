// What the console keeps in the ledger (migration 9), on SQLite and, with KNACK311_TEST_PG, on
// PostgreSQL: per-app summaries, the last sweep of each app, and login sessions with idle and
// absolute expiry.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import t, { type Test } from 'tap'
import { openLedger } from '../../src/ledger/open.js'
import type { ConsoleSession, Ledger, NewDelivery, SessionLimits, SweepRun } from '../../src/ledger/types.js'

const T0 = Date.parse('2026-03-01T12:00:00.000Z')
const at = (ms: number) => new Date(T0 + ms)
const LIMITS: SessionLimits = { idleMs: 30 * 60_000, maxAgeMs: 12 * 3_600_000, touchAfterMs: 60_000 }

let n = 0
const delivery = (over: Partial<NewDelivery> = {}): NewDelivery => {
  const recordId = `rec${++n}`
  return { app: 'data-tracker', recordId, srNumber: `SR-${n}`, atdActivityId: n, contentHash: `h${n}`, source: 'webhook', record: { id: recordId }, ...over }
}

function suite(t: Test, open: (t: Test) => Promise<Ledger>) {
  t.test('appSummaries: counts by status and the oldest pending delivery, per app', async (t) => {
    const ledger = await open(t)
    t.same(await ledger.appSummaries(), [], 'nothing yet')
    const a1 = await ledger.enqueue(delivery(), 'once', at(0))
    await ledger.enqueue(delivery(), 'once', at(1000))
    const b1 = await ledger.enqueue(delivery({ app: 'signs-markings' }), 'once', at(2000))
    await ledger.finish(a1.delivery.id, { owner: null, status: 'dead', attempts: 1, lastError: 'no', now: at(3000) })
    await ledger.finish(b1.delivery.id, { owner: null, status: 'sent', attempts: 1, now: at(3000) })

    const summaries = await ledger.appSummaries()
    t.same(summaries.map((s) => s.app), ['data-tracker', 'signs-markings'], 'apps in name order')
    const [dt, sm] = summaries
    t.equal(dt?.counts.dead, 1)
    t.equal(dt?.counts.queued, 1)
    t.equal(dt?.counts.sent, 0, 'every status is present')
    t.equal(dt?.oldestPending?.toISOString(), at(1000).toISOString(), 'the dead one is not pending: the queued one is the oldest')
    t.equal(sm?.counts.sent, 1)
    t.equal(sm?.oldestPending, null, 'nothing pending')
  })

  t.test('recordSweep keeps the latest sweep of each app', async (t) => {
    const ledger = await open(t)
    const run = (over: Partial<SweepRun>): SweepRun => ({
      app: 'data-tracker', trigger: 'schedule', startedAt: at(0), finishedAt: at(500), found: 3, queued: 2, duplicates: 1, invalid: 0, error: null, ...over
    })
    await ledger.recordSweep(run({}))
    await ledger.recordSweep(run({ app: 'signs-markings', trigger: 'cli' }))
    await ledger.recordSweep(run({ trigger: 'console', startedAt: at(60_000), finishedAt: at(61_000), found: 0, queued: 0, duplicates: 0, error: 'Knack answered 503' }))
    const last = await ledger.lastSweeps()
    t.same(last.map((r) => [r.app, r.trigger, r.found, r.error]), [
      ['data-tracker', 'console', 0, 'Knack answered 503'],
      ['signs-markings', 'cli', 3, null]
    ])
    t.equal(last[0]?.finishedAt.toISOString(), at(61_000).toISOString())
  })

  t.test('sessions: found while live, gone when idle, too old or deleted', async (t) => {
    const ledger = await open(t)
    const s = (id: string, createdAt: Date): ConsoleSession => ({ id, operator: 'ana', fingerprint: 'fp', createdAt, seenAt: createdAt })
    await ledger.createSession(s('one', at(0)), LIMITS)
    t.equal((await ledger.session('one', at(1000), LIMITS))?.operator, 'ana', 'live')
    t.equal(await ledger.session('nope', at(1000), LIMITS), undefined, 'unknown id')

    // Used every 20 minutes: never idle for 30, so it lives until the absolute limit.
    let now = 0
    for (let i = 0; i < 35 && now + 20 * 60_000 < LIMITS.maxAgeMs; i++) {
      now += 20 * 60_000
      t.ok(await ledger.session('one', at(now), LIMITS), `still live after ${now / 60_000} min of use`)
    }
    t.equal(await ledger.session('one', at(LIMITS.maxAgeMs), LIMITS), undefined, 'over at the absolute limit, however busy')

    await ledger.createSession(s('two', at(0)), LIMITS)
    const seen = await ledger.session('two', at(LIMITS.touchAfterMs / 2), LIMITS)
    t.equal(seen?.seenAt.toISOString(), at(0).toISOString(), 'a quick second look does not write')
    t.equal(await ledger.session('two', at(LIMITS.idleMs), LIMITS), undefined, 'idle for the idle limit: over')

    await ledger.createSession(s('three', at(0)), LIMITS)
    await ledger.deleteSession('three')
    t.equal(await ledger.session('three', at(1), LIMITS), undefined, 'deleted: logged out')
  })

  t.test('a new session clears out expired ones', async (t) => {
    const ledger = await open(t)
    const s = (id: string, createdAt: Date): ConsoleSession => ({ id, operator: 'ben', fingerprint: 'fp', createdAt, seenAt: createdAt })
    await ledger.createSession(s('old', at(0)), LIMITS)
    await ledger.createSession(s('new', at(LIMITS.maxAgeMs + 1)), LIMITS)
    // Asked with a lenient clock, the old one would still be live, were it still stored.
    t.equal(await ledger.session('old', at(1), LIMITS), undefined, 'removed from the store, not just hidden')
    t.ok(await ledger.session('new', at(LIMITS.maxAgeMs + 2), LIMITS))
  })
}

const dir = mkdtempSync(join(tmpdir(), 'knack311-console-store-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
let files = 0

t.test('SQLite', async (t) => {
  suite(t, async (t) => {
    const ledger = await openLedger(`sqlite:${join(dir, `s${++files}.sqlite`)}`)
    t.teardown(() => ledger.close())
    return ledger
  })
})

const pgUrl = process.env.KNACK311_TEST_PG
t.test('PostgreSQL', { skip: pgUrl ? false : 'KNACK311_TEST_PG is not set (e.g. postgres://postgres@127.0.0.1:5432/test)' }, async (t) => {
  suite(t, async (t) => {
    const schema = `console_test_${randomBytes(6).toString('hex')}`
    const ledger = await openLedger(pgUrl ?? '', { schema })
    t.teardown(async () => {
      await ledger.close()
      const client = new pg.Client({ connectionString: pgUrl })
      await client.connect()
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await client.end()
    })
    return ledger
  })
})
