// Unknown outcomes: a time-out after the ESB read the message may mean it was processed. The
// attempt is recorded as `timeout` (not counted against the delivery), the delivery is tried
// again, and once accepted it is marked a possible duplicate in /deliveries/:id and its list row.
import t from 'tap'
import { activity, adminHeaders, knackRecord, knackStatus, postWebhook, startStack, waitForStatus } from '../helpers/stack.js'
import { getDelivery } from '../helpers/pipeline.js'

const app = 'data-tracker'

t.test('a time-out after the ESB recorded the body, then success: sent, marked possible duplicate', async (t) => {
  const stack = await startStack({ env: { ESB_TIMEOUT: '400ms', RETRY_SCHEDULE: '30s,2m' } })
  t.teardown(() => stack.close())
  const act = activity()
  stack.seed(app, [act])
  stack.esbSim.timeoutNext(1)

  const id = (await postWebhook(stack, app, knackRecord(stack, app, act.id))).json<{ delivery: number }>().delivery
  const d = await waitForStatus(stack, id, ['sent', 'dead'], 15_000)
  t.equal(d.status, 'sent')
  t.equal(knackStatus(stack, app, act.id), 'SENT')
  t.same(stack.esbSim.unanswered.map((m) => m.values.id), [act.id], 'the ESB read it once without answering')
  t.same(stack.esbSim.received.map((m) => m.values.id), [act.id], 'and accepted it once')

  const view = await getDelivery(stack, id)
  t.equal(view.possible_duplicate, true, '/deliveries/:id says possible duplicate')
  t.equal(view.attempts, 1, 'the time-out did not use up an attempt')
  t.same(view.history.map((h) => `${h.step}:${h.outcome}`), ['esb:timeout', 'esb:accepted', 'knack:updated'])
  t.match(view.history[0]?.detail, /^timeout after 400 ms after the message was sent \(the ESB may have processed it\)$/)
  const list = await stack.app!.inject({ method: 'GET', url: `/deliveries?app=${app}`, headers: adminHeaders(stack) })
  t.same(list.json<Array<{ id: number; possible_duplicate: boolean }>>().map((r) => [r.id, r.possible_duplicate]), [[id, true]], 'and so does its list row')
})

t.test('a failure before anything was sent (connection refused), then success: not a possible duplicate', async (t) => {
  const stack = await startStack({ env: { RETRY_SCHEDULE: '30s,2m', ESB_PROBE_EVERY: '200ms' } })
  t.teardown(() => stack.close())
  const act = activity()
  stack.seed(app, [act])
  await stack.esbSim.down()
  const id = (await postWebhook(stack, app, knackRecord(stack, app, act.id))).json<{ delivery: number }>().delivery
  await waitForStatus(stack, id, ['failed'], 10_000)
  await stack.esbSim.up()
  const d = await waitForStatus(stack, id, ['sent', 'dead'], 15_000)
  t.equal(d.status, 'sent')
  t.equal(d.possibleDuplicate, false)
  const view = await getDelivery(stack, id)
  t.same(view.history.map((h) => `${h.step}:${h.outcome}`).slice(-2), ['esb:accepted', 'knack:updated'])
  t.ok(view.history.some((h) => h.outcome === 'endpoint' && /connection refused/.test(h.detail ?? '')), 'the refused attempt is in the history')
  t.equal(stack.esbSim.received.length, 1)
})
