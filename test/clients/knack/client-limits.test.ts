// Pacing against the simulator's real per-app limit, and 429s waited out.
import t from 'tap'
import type { Test } from 'tap'
import { createKnackClient } from '../../../src/clients/knack/client.js'
import type { KnackObserver } from '../../../src/clients/knack/client.js'
import { startKnackSimulator, appSpecFor } from '../../../src/sandbox/knack-simulator.js'
import { testApp, activity } from './fixtures.js'

async function setup(t: Test, observe?: KnackObserver) {
  const sim = await startKnackSimulator({ rateLimit: 10 })
  const app = testApp()
  sim.addApp(appSpecFor(app))
  sim.seed(app.credentials.appId, app.obj, Array.from({ length: 5 }, (_, i) => activity(app, i + 1)))
  const client = createKnackClient({ baseUrl: sim.url, rateLimit: 10, ...(observe ? { observe } : {}) })
  t.teardown(async () => {
    await client.close()
    await sim.close()
  })
  return { sim, app, client }
}

t.test('a burst of 50 concurrent calls stays within 10 per second: no 429 at all', async (t) => {
  const waits: number[] = []
  const { sim, app, client } = await setup(t, { limiterWait: (_appId, ms) => waits.push(ms) })
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => client.readRecord(app, `rec-${(i % 5) + 1}`)))
  t.equal(results.length, 50)
  t.ok(results.every((r, i) => r.id === `rec-${(i % 5) + 1}`))
  const stats = sim.stats()
  t.equal(stats.requests, 50, 'one request per call')
  t.equal(stats.rateLimited, 0, 'the simulator sent no 429')
  t.ok(stats.maxInAnyWindow <= 10, `at most 10 in any 1000 ms window (saw ${stats.maxInAnyWindow})`)
  t.equal(stats.maxInAnyWindow, 10, 'and the limit was actually reached (the test is not vacuous)')
  t.equal(waits.length, 50)
  t.ok(waits.filter((ms) => ms > 0).length >= 40, 'all but the first window waited for the limiter')
})

t.test('at the limit through a jittered network: Knack counts at most 10 in every second, no 429', async (t) => {
  // Knack 300 ms per answer: a one-way network leg of 20 ms ± 30 % before Knack counts the
  // request, then 280 ms ± 30 % of work. The limiter's defaults (20 ms arrival spread) hold it.
  const sim = await startKnackSimulator({ rateLimit: 10, latencyMs: 300, networkMs: 20, jitter: 0.3, seed: 311 })
  const app = testApp()
  sim.addApp(appSpecFor(app))
  sim.seed(app.credentials.appId, app.obj, Array.from({ length: 5 }, (_, i) => activity(app, i + 1)))
  const client = createKnackClient({ baseUrl: sim.url, rateLimit: 10 })
  t.teardown(async () => {
    await client.close()
    await sim.close()
  })
  const results = await Promise.all(Array.from({ length: 60 }, (_, i) => client.readRecord(app, `rec-${(i % 5) + 1}`)))
  t.equal(results.length, 60)
  const stats = sim.stats()
  t.equal(stats.requests, 60, 'one request per call')
  t.equal(stats.rateLimited, 0, 'no 429')
  t.ok(stats.maxInAnyWindow <= 10, `at most 10 in any 1000 ms window (saw ${stats.maxInAnyWindow})`)
  t.equal(stats.maxInAnyWindow, 10, 'and the limit was reached (the test is not vacuous)')
  const network = stats.legs.map((l) => l.networkMs)
  t.ok(Math.max(...network) - Math.min(...network) > 5, 'the network leg really varied')
})

t.test('two apps have separate limits', async (t) => {
  const { sim, app, client } = await setup(t)
  const other = testApp({ name: 'signs-markings', credentials: { appId: 'app-signs', apiKey: 'other-key-1234' } })
  sim.addApp(appSpecFor(other))
  sim.seed(other.credentials.appId, other.obj, [activity(other, 1)])
  // Fill app one's window, then app two must not wait behind it.
  await Promise.all(Array.from({ length: 10 }, () => client.readRecord(app, 'rec-1')))
  const pending = Array.from({ length: 5 }, () => client.readRecord(app, 'rec-1'))
  const started = Date.now()
  await client.readRecord(other, 'rec-1')
  const otherDone = Date.now()
  await Promise.all(pending)
  const appDone = Date.now()
  t.ok(otherDone < appDone, 'the other app was served while the first one waited for its window')
  t.ok(appDone - started >= 900, 'the first app did wait for its window')
  t.equal(sim.stats().rateLimited, 0)
})

t.test('a 429 is waited out until X-RateLimit-Reset, then the call succeeds', async (t) => {
  let rateLimited = 0
  const statuses: Array<number | 'error'> = []
  const { sim, app, client } = await setup(t, {
    rateLimited: () => rateLimited++,
    request: (_m, _r, status) => statuses.push(status)
  })
  const resetSeconds = Math.ceil(Date.now() / 1000) + 1
  sim.failNext(1, { method: 'GET', pathIncludes: '/records/rec-2', status: 429, headers: { 'X-RateLimit-Reset': String(resetSeconds) } })
  const record = await client.readRecord(app, 'rec-2')
  const doneAt = Date.now()
  t.equal(record.id, 'rec-2')
  t.ok(doneAt >= resetSeconds * 1000, 'retried only once the reset time had come')
  t.equal(sim.stats().rateLimited, 1)
  t.equal(sim.stats().requests, 2)
  t.equal(rateLimited, 1, 'the observer heard of the 429')
  t.same(statuses, [429, 200])
})

t.test('a 429 without a Reset header waits about a second', async (t) => {
  const { sim, app, client } = await setup(t)
  sim.failNext(1, { status: 429, headers: { 'X-RateLimit-Reset': '' } })
  const started = Date.now()
  await client.readRecord(app, 'rec-1')
  t.ok(Date.now() - started >= 900, 'waited about a second')
  t.equal(sim.stats().rateLimited, 1)
})

t.test('a 429 when the daily plan limit is used up fails at once, retryable', async (t) => {
  const sim = await startKnackSimulator({ rateLimit: 10, dailyLimit: 1 })
  const app = testApp()
  sim.addApp(appSpecFor(app))
  sim.seed(app.credentials.appId, app.obj, [activity(app, 1)])
  const remaining: number[] = []
  const client = createKnackClient({ baseUrl: sim.url, rateLimit: 10, observe: { planRemaining: (_a, n) => remaining.push(n) } })
  t.teardown(async () => {
    await client.close()
    await sim.close()
  })
  await client.readRecord(app, 'rec-1')
  const err = await client.readRecord(app, 'rec-1').catch((e: unknown) => e as Error & { status?: number; retryable?: boolean })
  t.equal(err.status, 429)
  t.equal(err.retryable, true)
  t.match(err.message, /daily plan limit/)
  t.same(remaining, [0, 0], 'X-PlanLimit-Remaining reached the observer')
  t.equal(sim.stats().requests, 2, 'no waiting and retrying against a daily limit')
})
