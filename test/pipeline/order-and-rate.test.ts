// Order per service request and Knack's rate limit, under load: every record sent, messages of
// one SR reach the ESB in atd_activity_id order, and Knack never sees more than its limit.
import t from 'tap'
import { checkOrder, spread } from '../helpers/order.js'
import { startStack } from '../helpers/stack.js'
import { postSweep, waitForIdle, waitForKnackStatus } from '../helpers/pipeline.js'

const app = 'data-tracker'

t.test('300 records over 40 SRs at Knack\'s 10 requests/s: all sent, in order, never rate limited', async (t) => {
  // KNACK_ARRIVAL_SPREAD: the limiter counts a request from its write; here Knack's "arrival" is
  // when this same process's event loop gets to the request, and on a loaded machine that trails
  // the write by far more than a real network's 20 ms spread (a stall moves a whole burst).
  const stack = await startStack({ esbLatencyMs: 20, env: { RETRY_SCHEDULE: '50ms,100ms,200ms', KNACK_ARRIVAL_SPREAD: '250ms' } })
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
    env: { RETRY_SCHEDULE: '50ms,100ms,200ms', KNACK_RATE_LIMIT: '50', WORKER_CONCURRENCY: '16', KNACK_ARRIVAL_SPREAD: '250ms' }
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
