import t from 'tap'
import { createRateLimiter } from '../../../src/clients/knack/limiter.js'

const RATE = 5
const WINDOW = 200

t.test('never more than `rate` in any window, counted from each release; first come first served', async (t) => {
  const limiter = createRateLimiter({ rate: RATE, windowMs: WINDOW, marginMs: 0, arrivalSpreadMs: 0 })
  t.teardown(() => limiter.close())
  const grants: Array<{ i: number; grantedAt: number; releasedAt: number; waited: number }> = []
  // The grant time is taken from the limiter's own answer (call time + wait), not from when the
  // callback ran: a GC pause before the callbacks would otherwise skew the first timestamps.
  await Promise.all(
    Array.from({ length: 17 }, (_, i) => {
      const calledAt = Date.now()
      return limiter.acquire().then((permit) => {
        // Release at once: the window then counts from here.
        const releasedAt = Date.now()
        permit.release()
        grants.push({ i, grantedAt: calledAt + permit.waitedMs, releasedAt, waited: permit.waitedMs })
      })
    })
  )
  t.equal(grants.length, 17)
  t.same(
    grants.map((g) => g.i),
    Array.from({ length: 17 }, (_, i) => i),
    'granted in call order'
  )
  for (let k = RATE; k < grants.length; k++) {
    const gap = (grants[k]?.grantedAt ?? 0) - (grants[k - RATE]?.releasedAt ?? 0)
    // 1 ms of slack: calledAt may be read a millisecond before the limiter reads its clock.
    t.ok(gap >= WINDOW - 1, `grant ${k} is at least one window after grant ${k - RATE} was released (gap ${gap} ms)`)
  }
  t.same(
    grants.slice(0, RATE).map((g) => g.waited),
    [0, 0, 0, 0, 0],
    'the first `rate` grants do not wait'
  )
  t.ok((grants[RATE]?.waited ?? 0) > 0, 'the next one waits')
  t.equal(limiter.pending, 0)
})

t.test('a slot in flight is held until released, and its window starts at the release', async (t) => {
  const limiter = createRateLimiter({ rate: 1, windowMs: 100, marginMs: 0, arrivalSpreadMs: 0 })
  t.teardown(() => limiter.close())
  const first = await limiter.acquire()
  let granted = false
  const second = limiter.acquire().then((p) => {
    granted = true
    return p
  })
  await new Promise((r) => setTimeout(r, 250))
  t.equal(granted, false, 'not granted while the first request is in flight, even after the window')
  const releasedAt = Date.now()
  first.release()
  first.release() // idempotent
  const permit = await second
  t.ok(Date.now() - releasedAt >= 99, 'granted one window after the release')
  permit.release()
})

t.test('a late caller does not overtake queued waiters', async (t) => {
  const limiter = createRateLimiter({ rate: 2, windowMs: WINDOW, marginMs: 0, arrivalSpreadMs: 0 })
  t.teardown(() => limiter.close())
  const order: string[] = []
  for (const p of await Promise.all([limiter.acquire(), limiter.acquire()])) p.release()
  const queued = limiter.acquire().then((p) => {
    order.push('queued')
    p.release()
  })
  t.equal(limiter.pending, 1)
  // Block the event loop past the window so the limiter's timer has not fired yet when the
  // newcomer arrives: the window has room, but the queued waiter must still go first.
  const until = Date.now() + WINDOW + 20
  while (Date.now() < until) {
    // spin on purpose (test only)
  }
  const late = limiter.acquire().then((p) => {
    order.push('late')
    p.release()
  })
  await Promise.all([queued, late])
  t.same(order, ['queued', 'late'])
})

t.test('the margin widens the window', async (t) => {
  const limiter = createRateLimiter({ rate: 1, windowMs: 100, marginMs: 60, arrivalSpreadMs: 0 })
  t.teardown(() => limiter.close())
  ;(await limiter.acquire()).release()
  const start = Date.now()
  ;(await limiter.acquire()).release()
  t.ok(Date.now() - start >= 159, 'second grant waits window + margin')
})

t.test('a slot written to the socket frees one window + arrival spread + margin after the write, answered or not', async (t) => {
  const limiter = createRateLimiter({ rate: 1, windowMs: 100, marginMs: 10, arrivalSpreadMs: 40 })
  t.teardown(() => limiter.close())
  const first = await limiter.acquire()
  const writtenAt = Date.now()
  first.sent?.(writtenAt)
  // Still in flight (no release): the write alone decides when the slot frees.
  const second = await limiter.acquire()
  const grantedAt = Date.now()
  t.ok(grantedAt - writtenAt >= 149, `granted 100 + 40 + 10 ms after the first request's write (${grantedAt - writtenAt} ms), before its answer`)
  first.release() // a late answer does not hold the slot again
  second.sent?.()
  second.release()
})

t.test('a later write of the same request (a retry on a new socket) counts from the later write', async (t) => {
  const limiter = createRateLimiter({ rate: 1, windowMs: 100, marginMs: 0, arrivalSpreadMs: 0 })
  t.teardown(() => limiter.close())
  const first = await limiter.acquire()
  const at = Date.now()
  first.sent?.(at - 80)
  first.sent?.(at)
  first.sent?.(at - 90) // an earlier time cannot move the slot back
  first.release()
  ;(await limiter.acquire()).release()
  t.ok(Date.now() - at >= 99, 'one window after the later write')
})

t.test('a write that cannot bound the arrival (a retry on a new connection) cancels an earlier one', async (t) => {
  const limiter = createRateLimiter({ rate: 1, windowMs: 100, marginMs: 0, arrivalSpreadMs: 0 })
  t.teardown(() => limiter.close())
  const first = await limiter.acquire()
  first.sent?.(Date.now())
  first.sent?.(null)
  let granted = false
  const second = limiter.acquire().then((p) => {
    granted = true
    return p
  })
  await new Promise((r) => setTimeout(r, 250))
  t.equal(granted, false, 'in flight again: not granted after the window from the first write')
  const releasedAt = Date.now()
  first.release()
  ;(await second).release()
  t.ok(Date.now() - releasedAt >= 99, 'granted one window after the release')
})

t.test('a request released without a known write is counted from its release', async (t) => {
  const limiter = createRateLimiter({ rate: 1, windowMs: 100, marginMs: 0, arrivalSpreadMs: 20 })
  t.teardown(() => limiter.close())
  const first = await limiter.acquire()
  await new Promise((r) => setTimeout(r, 150))
  const releasedAt = Date.now()
  first.release()
  ;(await limiter.acquire()).release()
  t.ok(Date.now() - releasedAt >= 119, 'window + spread after the release, not after the grant')
})

t.test("Knack's own count: a full window that our requests cannot fill pauses grants until Knack's reset", async (t) => {
  const limiter = createRateLimiter({ rate: 3, windowMs: 100, marginMs: 0, arrivalSpreadMs: 0 })
  t.teardown(() => limiter.close())
  const mine = await limiter.acquire()
  mine.sent?.()
  const resetAtMs = Date.now() + 300
  // Knack counted 3 while only this one request of ours can be in its window: someone else spends the budget.
  mine.release({ remaining: 0, resetAtMs })
  ;(await limiter.acquire()).release()
  t.ok(Date.now() >= resetAtMs, 'the next grant waits for the reset Knack gave')
})

t.test("Knack's own count: a full window of our own requests changes nothing (that is running at the limit)", async (t) => {
  const limiter = createRateLimiter({ rate: 3, windowMs: 100, marginMs: 0, arrivalSpreadMs: 0 })
  t.teardown(() => limiter.close())
  const permits = await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()])
  const at = Date.now()
  for (const p of permits) p.sent?.(at)
  for (const p of permits) p.release({ remaining: 0, resetAtMs: at + 60_000 })
  ;(await limiter.acquire()).release()
  t.ok(Date.now() - at < 60_000, 'not paused for the reset')
  t.ok(Date.now() - at >= 99, 'granted when the first slot freed')
})

t.test('pauseUntil holds every grant until the given time', async (t) => {
  const limiter = createRateLimiter({ rate: 100, windowMs: WINDOW, marginMs: 0, arrivalSpreadMs: 0 })
  t.teardown(() => limiter.close())
  const until = Date.now() + 150
  limiter.pauseUntil(until)
  limiter.pauseUntil(until - 100) // an earlier pause does not shorten it
  const times = await Promise.all(
    [1, 2, 3].map(() =>
      limiter.acquire().then((p) => {
        p.release()
        return Date.now()
      })
    )
  )
  for (const at of times) t.ok(at >= until, 'granted after the pause')
})

t.test('close rejects waiters and later calls, and leaves no timer behind', async (t) => {
  const limiter = createRateLimiter({ rate: 1, windowMs: 60_000, marginMs: 0, arrivalSpreadMs: 0 })
  ;(await limiter.acquire()).release()
  const waiting = limiter.acquire()
  t.equal(limiter.pending, 1)
  limiter.close()
  await t.rejects(waiting, /closed/)
  await t.rejects(limiter.acquire(), /closed/)
  t.equal(limiter.pending, 0)
  // A pending 60 s timer would keep this test file alive until tap's timeout.
})

t.test('rejects a rate below 1', async (t) => {
  t.throws(() => createRateLimiter({ rate: 0 }), RangeError)
  t.throws(() => createRateLimiter({ rate: Number.NaN }), RangeError)
})
