// One ESB message per delivery: duplicate webhooks, overlapping sweeps and repeated resend clicks
// against the real service, the Knack simulator and the mutual-TLS ESB simulator.
import t from 'tap'
import { activity, knackRecord, knackStatus, postWebhook, startStack } from '../helpers/stack.js'
import { esbCountsByRecord, getDelivery, postResend, postSweep, waitForIdle, waitForKnackStatus } from '../helpers/pipeline.js'

const app = 'data-tracker'
const VIEW_READS = 'GET /pages/:scene/views/:view/records'

t.test('20 concurrent identical webhooks per record: one delivery and one ESB message each', async (t) => {
  const stack = await startStack({ env: { RETRY_SCHEDULE: '50ms,100ms,200ms' } })
  t.teardown(() => stack.close())
  const acts = Array.from({ length: 10 }, () => activity())
  stack.seed(app, acts)
  const ids = acts.map((a) => a.id)

  const requests = ids.flatMap((id) => {
    const body = knackRecord(stack, app, id)
    return Array.from({ length: 20 }, () => postWebhook(stack, app, body).then((res) => ({ id, res })))
  })
  const answers = await Promise.all(requests)

  const codes = answers.map((a) => a.res.statusCode)
  t.equal(codes.filter((c) => c === 202).length, 10, 'one 202 per record')
  t.equal(codes.filter((c) => c === 200).length, 190, 'the rest 200')
  for (const id of ids) {
    const mine = answers.filter((a) => a.id === id).map((a) => a.res.json<{ status: string; delivery: number }>())
    const deliveries = new Set(mine.map((m) => m.delivery))
    t.equal(deliveries.size, 1, `record ${id}: every answer names the same delivery`)
    t.equal(mine.filter((m) => m.status === 'queued').length, 1, `record ${id}: queued once`)
    t.equal(mine.filter((m) => m.status === 'duplicate').length, 19, `record ${id}: 19 duplicates`)
  }

  await waitForKnackStatus(stack, app, ids, 'SENT')
  await waitForIdle(stack)
  t.equal(stack.esbSim.received.length, 10, 'exactly 10 ESB messages')
  const counts = esbCountsByRecord(stack)
  t.same([...counts.keys()].sort(), [...ids].sort(), 'one message for each record')
  t.ok([...counts.values()].every((n) => n === 1), 'no record twice')
})

t.test('two overlapping sweeps: one joins the other and the view is read once', async (t) => {
  const stack = await startStack({ env: { RETRY_SCHEDULE: '50ms,100ms,200ms' } })
  t.teardown(() => stack.close())
  const acts = Array.from({ length: 6 }, () => activity())
  stack.seed(app, acts)
  stack.knackSim.resetStats()
  // Knack answering slowly keeps the first sweep running while the second request arrives.
  stack.knackSim.setLatency(150)

  const [first, second] = await Promise.all([postSweep(stack, app), postSweep(stack, app)])
  t.equal(first.statusCode, 200, first.body)
  t.equal(second.statusCode, 200, second.body)
  const bodies = [first.json<{ joined: boolean; found: number; queued: number }>(), second.json<{ joined: boolean; found: number; queued: number }>()]
  t.same(bodies.map((b) => b.joined).sort(), [false, true], 'exactly one of the two joined')
  for (const b of bodies) {
    t.equal(b.found, 6)
    t.equal(b.queued, 6, 'the joined answer reports the one sweep')
  }
  t.equal(stack.knackSim.stats().byRoute[VIEW_READS], 1, "Knack's view was read once")

  stack.knackSim.setLatency(0)
  await waitForKnackStatus(stack, app, acts.map((a) => a.id), 'SENT')
  await waitForIdle(stack)
  t.equal(stack.esbSim.received.length, 6, 'one ESB message per record')
})

t.test('a resend clicked twice while the first is pending sends one message', async (t) => {
  const stack = await startStack({ env: { RETRY_SCHEDULE: '50ms,100ms,200ms' } })
  t.teardown(() => stack.close())
  // Already SENT in Knack: a resend sends it whatever its status.
  const act = activity({ status: 'SENT' })
  stack.seed(app, [act])
  // The first send takes a while, so the second click finds it pending.
  stack.esbSim.setLatency(600)

  const click1 = await postResend(stack, app, act.id)
  t.equal(click1.statusCode, 202, click1.body)
  const first = click1.json<{ status: string; delivery: { id: number; status: string } }>()
  t.not(first.delivery.status, 'sent', 'the first resend is still pending')

  const click2 = await postResend(stack, app, act.id, '30s')
  t.equal(click2.statusCode, 200, click2.body)
  const second = click2.json<{ status: string; delivery: { id: number } }>()
  t.equal(second.delivery.id, first.delivery.id, 'the second click joined the pending delivery')
  t.equal(second.status, 'sent')

  await waitForIdle(stack)
  t.equal(stack.esbSim.received.length, 1, 'one ESB message')
  t.equal(stack.esbSim.received[0]?.values.id, act.id)
  t.equal(knackStatus(stack, app, act.id), 'SENT')
  const d = await getDelivery(stack, first.delivery.id)
  t.equal(d.history.filter((h) => h.step === 'esb').length, 1, 'one ESB attempt in the history')
})
