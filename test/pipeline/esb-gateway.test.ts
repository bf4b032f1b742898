// Today's gateway (reference/esb-today.md, July 2026): about half of all requests answered
// "404 No such path". A 404 is the gateway's trouble, never the record's: everything is sent, once,
// in order per service request, and nothing is dead.
import t from 'tap'
import { checkOrder, spread } from '../helpers/order.js'
import { adminHeaders, startStack } from '../helpers/stack.js'
import { getDelivery, postSweep, waitForIdle, waitForKnackStatus } from '../helpers/pipeline.js'

const app = 'data-tracker'

t.test('50 % of requests answered 404 No such path: 200 records over 30 SRs all sent, none dead, one message each, in order', async (t) => {
  const stack = await startStack({
    esb: { flaky: { notFound: 0.5, seed: 29228 } },
    esbPath: 'gateway',
    // Knack's limit raised (simulator and service alike) so the test measures the ESB, not Knack.
    knack: { rateLimit: 200 },
    env: { KNACK_RATE_LIMIT: '200', RETRY_SCHEDULE: '30s,2m,10m', ESB_PROBE_EVERY: '200ms' }
  })
  t.teardown(() => stack.close())
  const acts = spread('26-G', 200, 30, 29228)
  stack.seed(app, acts)

  const res = await postSweep(stack, app)
  t.equal(res.json<{ queued: number }>().queued, 200)
  await waitForKnackStatus(stack, app, acts.map((a) => a.id), 'SENT', 120_000)
  await waitForIdle(stack)

  t.ok(stack.esbSim.stats.notFound >= 100, `the gateway answered 404 ${stack.esbSim.stats.notFound} times`)
  checkOrder(t, stack, acts)
  const list = await stack.app!.inject({ method: 'GET', url: `/deliveries?app=${app}&limit=1000`, headers: adminHeaders(stack) })
  const rows = list.json<Array<{ id: number; status: string; attempts: number }>>()
  t.equal(rows.length, 200)
  t.same(rows.filter((r) => r.status !== 'sent'), [], 'every delivery sent, none dead')
  // A 404 never counts: every delivery needed exactly the attempt that was accepted. (A 30 s first
  // wait in RETRY_SCHEDULE would also have kept any counted failure from finishing in this test.)
  t.same(rows.filter((r) => r.attempts !== 1), [], 'one counted attempt each')

  // Where a whole attempt met only 404s, the history shows it as the endpoint's, not counted.
  const histories = await Promise.all(rows.map((r) => getDelivery(stack, r.id)))
  const endpointRows = histories.flatMap((h) => h.history.filter((a) => a.step === 'esb' && a.outcome === 'endpoint'))
  for (const a of endpointRows) t.match(a.detail, /^HTTP 404 \(No such path for url .*\/ws\/rest\/v1\/knack\/submitKnack\/\) \(5 tries\)$/)
  t.equal(histories.flatMap((h) => h.history.filter((a) => a.step === 'esb' && a.outcome === 'failed')).length, 0, 'no ESB attempt counted as failed')
  const ready = await stack.app!.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.json<{ checks: { esb: { state: string } } }>().checks.esb.state, 'ok', 'sending never paused')
})
