// The shared Knack limiter over real PostgreSQL rate slots (migration 6): two limiters on two
// ledgers (two pools, as two replicas would have) draw from one app's slots. Needs
// KNACK311_TEST_PG; without it the file reports itself skipped.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import t from 'tap'
import type { Test } from 'tap'
import type { Permit, RateLimiter } from '../../../src/clients/knack/limiter.js'
import type { RateSlots } from '../../../src/clients/knack/rate-slots.js'
import { createSharedRateLimiter } from '../../../src/clients/knack/shared-limiter.js'
import { openLedger } from '../../../src/ledger/open.js'
import type { Ledger } from '../../../src/ledger/types.js'

const url = process.env.KNACK311_TEST_PG
const RATE = 4
/** Short windows keep the file quick; the hold adds the default 20 ms spread and 5 ms margin. */
const WINDOW = 300

async function replicas(t: Test, n: number): Promise<{ slots: RateSlots[]; ledgers: Ledger[]; db: pg.Client; schema: string }> {
  const schema = `rate_${randomBytes(6).toString('hex')}`
  const ledgers = await Promise.all(Array.from({ length: n }, () => openLedger(url ?? '', { schema })))
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  t.teardown(async () => {
    await Promise.all(ledgers.map((l) => l.close()))
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await db.end()
  })
  const slots = ledgers.map((l) => {
    if (!l.rateSlots) throw new Error('a PostgreSQL ledger has rate slots')
    return l.rateSlots
  })
  return { slots, ledgers, db, schema }
}

function limiter(t: Test, slots: RateSlots, appId: string, rate = RATE, onError?: (err: unknown) => void): RateLimiter {
  const l = createSharedRateLimiter({ slots, appId, rate, windowMs: WINDOW, onError })
  t.teardown(() => l.close())
  return l
}

/** Most grants inside any `window` ms, from their times. */
function maxInWindow(times: number[], window: number): number {
  const sorted = [...times].sort((a, b) => a - b)
  let most = 0
  let lo = 0
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= window) lo++
    most = Math.max(most, hi - lo + 1)
  }
  return most
}

if (!url) {
  t.plan(0, 'shared Knack limiter skipped: KNACK311_TEST_PG is not set (e.g. postgres://postgres@127.0.0.1:5432/test)')
} else {
  t.test('two limiters on one app never grant more than `rate` in any window together; FIFO within each', async (t) => {
    const { slots } = await replicas(t, 2)
    const [a, b] = [limiter(t, slots[0] as RateSlots, 'app1'), limiter(t, slots[1] as RateSlots, 'app1')]
    const times: number[] = []
    const order: Record<string, number[]> = { a: [], b: [] }
    const calls = Array.from({ length: 24 }, (_, i) => {
      const [name, l] = i % 2 === 0 ? (['a', a] as const) : (['b', b] as const)
      return l.acquire().then((p: Permit) => {
        times.push(Date.now())
        order[name]?.push(i)
        p.release()
      })
    })
    await Promise.all(calls)
    t.equal(times.length, 24, 'every caller was granted')
    const most = maxInWindow(times, WINDOW)
    t.ok(most <= RATE, `at most ${RATE} grants in any ${WINDOW} ms across both limiters (saw ${most})`)
    t.same(order.a, [...(order.a ?? [])].sort((x, y) => x - y), 'limiter a granted in call order')
    t.same(order.b, [...(order.b ?? [])].sort((x, y) => x - y), 'limiter b granted in call order')
    // Both drew from the same slots: neither could have had RATE per window of its own.
    const span = Math.max(...times) - Math.min(...times)
    t.ok(span >= (24 / RATE - 1) * WINDOW, `24 grants at ${RATE} per ${WINDOW} ms took ${span} ms for both together`)
  })

  t.test('an answer holds its slot one window past it: a slow request keeps its slot longer', async (t) => {
    const { slots } = await replicas(t, 2)
    const [a, b] = [limiter(t, slots[0] as RateSlots, 'app1', 1), limiter(t, slots[1] as RateSlots, 'app1', 1)]
    const first = await a.acquire()
    // Answered after 200 ms: without the answer's hold the slot would free 325 ms after the grant.
    await new Promise((r) => setTimeout(r, 200))
    const answeredAt = Date.now()
    first.release()
    await b.acquire()
    const gap = Date.now() - answeredAt
    t.ok(gap >= WINDOW - 10, `the other replica's grant came ${gap} ms after the answer (window ${WINDOW} ms)`)
  })

  t.test('another app has slots of its own', async (t) => {
    const { slots } = await replicas(t, 1)
    const s = slots[0] as RateSlots
    const [one, two] = [limiter(t, s, 'one'), limiter(t, s, 'two')]
    const waited = await Promise.all([...Array.from({ length: RATE }, () => one.acquire()), ...Array.from({ length: RATE }, () => two.acquire())])
    t.ok(waited.every((p) => p.waitedMs < WINDOW), 'RATE grants for each app at once, without waiting a window')
  })

  t.test('pauseUntil on one replica holds the grants of the other', async (t) => {
    const { slots, db, schema } = await replicas(t, 2)
    const [a, b] = [limiter(t, slots[0] as RateSlots, 'app1'), limiter(t, slots[1] as RateSlots, 'app1')]
    ;(await a.acquire()).release() // creates the app's slot rows
    const pauseMs = 700
    const pauseEnd = Date.now() + pauseMs
    a.pauseUntil(pauseEnd)
    // pauseUntil returns at once and writes in the background: wait until every slot holds it.
    for (let i = 0; i < 200; i++) {
      const { rows } = await db.query<{ held: boolean }>(
        `SELECT bool_and(busy_until >= clock_timestamp() + interval '400 milliseconds') AS held FROM ${schema}.knack_rate_slots WHERE app_id = 'app1'`
      )
      if (rows[0]?.held) break
      await new Promise((r) => setTimeout(r, 5))
    }
    const [pa, pb] = await Promise.all([a.acquire(), b.acquire()])
    const now = Date.now()
    t.ok(now >= pauseEnd - 30, `both granted only once the pause ended (${pauseEnd - now} ms early at most 30)`)
    t.ok(pb.waitedMs >= 400, `the other replica waited ${pb.waitedMs} ms`)
    t.ok(pa.waitedMs >= 400, `the pausing one waited ${pa.waitedMs} ms`)
  })

  t.test('a lower rate uses slots 0..rate-1 only; a higher one adds rows', async (t) => {
    const { slots, db, schema } = await replicas(t, 1)
    const s = slots[0] as RateSlots
    const wide = limiter(t, s, 'app1', 6)
    await Promise.all(Array.from({ length: 6 }, () => wide.acquire()))
    const count = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.knack_rate_slots WHERE app_id = 'app1'`)).rows[0]?.n
    t.equal(await count(), 6, 'six rows for rate 6')
    // Every slot is now busy for one hold; a rate-2 limiter waits for slot 0 or 1 like everyone.
    const narrow = limiter(t, s, 'app1', 2)
    const grants = await Promise.all(Array.from({ length: 4 }, () => narrow.acquire()))
    t.ok((grants[0]?.waitedMs ?? 0) >= WINDOW - 50, 'the narrow limiter waited for a busy slot')
    t.ok((grants[2]?.waitedMs ?? 0) >= (grants[0]?.waitedMs ?? 0) + WINDOW - 5, 'its third grant waited a further window: only two slots')
    t.equal(await count(), 6, 'the extra rows stay, unused')
  })

  t.test('a replica that dies frees its share by itself: its slots run out after one hold', async (t) => {
    const { slots, ledgers } = await replicas(t, 2)
    const dead = limiter(t, slots[0] as RateSlots, 'app1')
    await Promise.all(Array.from({ length: RATE }, () => dead.acquire()))
    dead.close()
    await (ledgers[0] as Ledger).close()
    const alive = limiter(t, slots[1] as RateSlots, 'app1')
    const grants = await Promise.all(Array.from({ length: RATE }, () => alive.acquire()))
    const longest = Math.max(...grants.map((p) => p.waitedMs))
    t.ok(longest <= WINDOW + 25 + 100, `all ${RATE} slots were the survivor's within one hold (${longest} ms)`)
  })

  t.test('a failing store is reported and retried; close rejects the waiters and later calls', async (t) => {
    const { slots, ledgers } = await replicas(t, 1)
    await (ledgers[0] as Ledger).close()
    const errors: unknown[] = []
    const l = limiter(t, slots[0] as RateSlots, 'app1', RATE, (err) => errors.push(err))
    const waiting = l.acquire()
    for (let i = 0; i < 200 && errors.length < 2; i++) await new Promise((r) => setTimeout(r, 10))
    t.ok(errors.length >= 2, `the store error was reported and the take retried (${errors.length} times)`)
    t.equal(l.pending, 1, 'the caller still waits')
    l.close()
    await t.rejects(waiting, /closed/, 'close rejects the waiter')
    await t.rejects(l.acquire(), /closed/, 'and later calls')
  })

  t.test('rejects a rate below 1', async (t) => {
    const { slots } = await replicas(t, 1)
    t.throws(() => createSharedRateLimiter({ slots: slots[0] as RateSlots, appId: 'x', rate: 0 }), RangeError)
  })
}
