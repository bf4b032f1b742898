// Order per service request and Knack's rate limit, under load: every record sent, messages of
// one SR reach the ESB in atd_activity_id order, and Knack never sees more than its limit.
import t, { type Test } from 'tap'
import type { ActivityInput } from '../../src/sandbox/knack-records.js'
import type { Stack } from '../../src/sandbox/stack.js'
import { activity, startStack } from '../helpers/stack.js'
import { postSweep, shuffled, waitForIdle, waitForKnackStatus } from '../helpers/pipeline.js'

const app = 'data-tracker'

/** `count` activities spread over `srs` service requests, atd_activity_ids shuffled across them. */
function spread(prefix: string, count: number, srs: number, seed: number): ActivityInput[] {
  const atdIds = shuffled(Array.from({ length: count }, (_, i) => 10_000 + i), seed)
  return atdIds.map((atdActivityId, i) => activity({ atdActivityId, srNumber: `${prefix}-${String(i % srs).padStart(3, '0')}` }))
}

/** Every record reached the ESB once, and per SR in atd_activity_id order. */
function checkOrder(t: Test, stack: Stack, acts: ActivityInput[]): void {
  const atdOf = new Map(acts.map((a) => [a.id, a.atdActivityId]))
  const received = stack.esbSim.received
  t.equal(received.length, acts.length, 'one ESB message per record')
  t.equal(new Set(received.map((m) => m.values.id)).size, acts.length, 'no record twice')

  const arrivals = new Map<string, number[]>()
  for (const m of received) {
    const sr = m.values.sr_number ?? ''
    const atd = atdOf.get(m.values.id ?? '')
    if (atd === undefined) throw new Error(`ESB got an unknown record ${m.values.id}`)
    arrivals.set(sr, [...(arrivals.get(sr) ?? []), atd])
  }
  const srCount = new Set(acts.map((a) => a.srNumber)).size
  t.equal(arrivals.size, srCount, 'messages of every SR arrived')
  const outOfOrder = [...arrivals].filter(([, atds]) => atds.some((atd, i) => i > 0 && atd < (atds[i - 1] as number)))
  t.same(outOfOrder, [], 'per SR, arrival order equals atd_activity_id order')
}

t.test('300 records over 40 SRs at Knack\'s 10 requests/s: all sent, in order, never rate limited', async (t) => {
  const stack = await startStack({ esbLatencyMs: 20, env: { RETRY_SCHEDULE: '50ms,100ms,200ms' } })
  t.teardown(() => stack.close())
  const acts = spread('26-A', 300, 40, 311)
  stack.seed(app, acts)
  stack.knackSim.resetStats()

  const res = await postSweep(stack, app)
  t.equal(res.statusCode, 200)
  t.equal(res.json<{ queued: number }>().queued, 300)
  // 300 PUTs at 10 per second take about 30 s; the wait is generous for a busy machine.
  await waitForKnackStatus(stack, app, acts.map((a) => a.id), 'SENT', 120_000)
  await waitForIdle(stack)

  const stats = stack.knackSim.stats()
  t.equal(stats.rateLimited, 0, 'Knack never answered 429')
  t.ok(stats.maxInAnyWindow <= 10, `at most 10 requests in any second (saw ${stats.maxInAnyWindow})`)
  checkOrder(t, stack, acts)
})

t.test('ESB latency varying 0-50 ms, many SRs in parallel: order per SR still holds', async (t) => {
  // A higher limit on both sides keeps this one short; the limit itself is the test above.
  const stack = await startStack({
    knack: { rateLimit: 50 },
    env: { RETRY_SCHEDULE: '50ms,100ms,200ms', KNACK_RATE_LIMIT: '50', WORKER_CONCURRENCY: '16' }
  })
  t.teardown(() => stack.close())
  const acts = spread('26-B', 150, 25, 42)
  stack.seed(app, acts)
  stack.knackSim.resetStats()
  // A new random latency every few ms: messages in flight together see different delays.
  const jitter = setInterval(() => stack.esbSim.setLatency(Math.floor(Math.random() * 51)), 5)
  t.teardown(() => clearInterval(jitter))

  const res = await postSweep(stack, app)
  t.equal(res.json<{ queued: number }>().queued, 150)
  await waitForKnackStatus(stack, app, acts.map((a) => a.id), 'SENT', 60_000)
  await waitForIdle(stack)
  clearInterval(jitter)

  const stats = stack.knackSim.stats()
  t.equal(stats.rateLimited, 0, 'Knack never answered 429')
  t.ok(stats.maxInAnyWindow <= 50, `at most 50 requests in any second (saw ${stats.maxInAnyWindow})`)
  checkOrder(t, stack, acts)
})
