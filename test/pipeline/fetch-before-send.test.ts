// Fetch before send (WEBHOOK_VERIFY): a webhook body is a hint. The worker reads the record back
// through the app's view before anything goes to the ESB, and what Knack holds is what is sent.
import t, { type Test } from 'tap'
import { activityRecord } from '../../src/sandbox/knack-records.js'
import type { Stack } from '../../src/sandbox/stack.js'
import { getDelivery, postSweep, waitForIdle } from '../helpers/pipeline.js'
import { activity, knackRecord, knackStatus, postWebhook, startStack, waitForStatus } from '../helpers/stack.js'

const app = 'data-tracker'
const READ_ROUTE = 'GET /pages/:scene/views/:view/records/:id'
const PUT_ROUTE = 'PUT /objects/:obj/records/:id'

async function webhook(t: Test, stack: Stack, body: unknown): Promise<number> {
  const res = await postWebhook(stack, app, body)
  t.equal(res.statusCode, 202, `webhook answered at once: ${res.body}`)
  t.equal(res.json<{ status: string }>().status, 'queued')
  return res.json<{ delivery: number }>().delivery
}

/** The record as Knack holds it now, copied (the simulator's own object must not change with it). */
function snapshot(stack: Stack, id: string) {
  return structuredClone(knackRecord(stack, app, id))
}

t.test('a body for a record Knack does not have: nothing reaches the ESB, the delivery is dead "not found in Knack"', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const body = activityRecord(stack.appConfig(app), activity())
  const id = await webhook(t, stack, body)

  const d = await waitForStatus(stack, id, ['dead', 'sent', 'skipped'], 30_000)
  t.equal(d.status, 'dead')
  t.match(d.lastError, /not found in Knack/)
  await waitForIdle(stack)
  t.equal(stack.esbSim.received.length, 0, 'no ESB message')
  t.equal(stack.knackSim.stats().byRoute[PUT_ROUTE] ?? 0, 0, 'no PUT for a record that is not there')
  const view = await getDelivery(stack, id)
  t.same(view.history.map((h) => [h.step, h.outcome]), [['knack', 'not_found']])
})

t.test('a body older than the record: what Knack holds now is what the ESB receives (one read, through the view)', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const act = activity({ details: 'first version' })
  stack.seed(app, [act])
  const stale = snapshot(stack, act.id)
  stack.seed(app, [{ ...act, details: 'corrected in Knack later' }])
  stack.knackSim.resetStats()

  const id = await webhook(t, stack, stale)
  const d = await waitForStatus(stack, id, ['sent', 'dead', 'skipped'], 30_000)
  t.equal(d.status, 'sent', d.lastError ?? '')
  await waitForIdle(stack)
  t.equal(stack.esbSim.received.length, 1)
  t.equal(stack.esbSim.received[0]?.values.activity_details, 'corrected in Knack later', "Knack's content, not the body's")
  t.equal(stack.knackSim.stats().byRoute[READ_ROUTE], 1, 'one read of the record through the view')
  t.equal((await getDelivery(stack, id)).record_origin, 'knack', "GET /deliveries/:id: the delivery now holds Knack's record")
  t.match(JSON.stringify(d.record), /corrected in Knack later/, 'the record stored is the one read from Knack')
  t.equal(knackStatus(stack, app, act.id), 'SENT')
})

t.test('WEBHOOK_VERIFY=false: the body is sent as posted, Knack is not read', async (t) => {
  const stack = await startStack({ env: { WEBHOOK_VERIFY: 'false' } })
  t.teardown(() => stack.close())
  const act = activity({ details: 'as posted' })
  stack.seed(app, [act])
  const body = snapshot(stack, act.id)
  stack.seed(app, [{ ...act, details: 'changed in Knack' }])
  stack.knackSim.resetStats()

  const id = await webhook(t, stack, body)
  const d = await waitForStatus(stack, id, ['sent', 'dead', 'skipped'], 30_000)
  t.equal(d.status, 'sent')
  await waitForIdle(stack)
  t.equal(stack.esbSim.received.length, 1)
  t.equal(stack.esbSim.received[0]?.values.activity_details, 'as posted')
  t.equal(stack.knackSim.stats().byRoute[READ_ROUTE] ?? 0, 0, 'no read before send')
  t.equal((await getDelivery(stack, id)).record_origin, 'body', 'GET /deliveries/:id: the body, never read back')
})

t.test('a record no longer ready in Knack: skipped with the reason, nothing at the ESB, nothing PUT', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const act = activity()
  stack.seed(app, [act])
  const body = snapshot(stack, act.id)
  stack.seed(app, [{ ...act, status: 'ON_HOLD' }])
  stack.knackSim.resetStats()

  const id = await webhook(t, stack, body)
  const d = await waitForStatus(stack, id, ['sent', 'dead', 'skipped'], 30_000)
  t.equal(d.status, 'skipped')
  t.match(d.lastError, /no longer ready in Knack \(esb_status now "ON_HOLD"\)/)
  await waitForIdle(stack)
  t.equal(stack.esbSim.received.length, 0, 'no ESB message')
  t.equal(stack.knackSim.stats().byRoute[PUT_ROUTE] ?? 0, 0, 'Knack left as it is')
  t.equal(knackStatus(stack, app, act.id), 'ON_HOLD')
})

t.test('a stale webhook and a sweep of the same record make one ESB message', async (t) => {
  // The worker waits until both are queued, so the sweep really queues a second delivery (Knack's
  // content differs from the body's) and the two meet at send time.
  const stack = await startStack({ startWorker: false })
  t.teardown(() => stack.close())
  const act = activity({ details: 'before' })
  stack.seed(app, [act])
  const stale = snapshot(stack, act.id)
  stack.seed(app, [{ ...act, details: 'after' }])

  const hooked = await webhook(t, stack, stale)
  const sweep = await postSweep(stack, app)
  t.equal(sweep.statusCode, 200, sweep.body)
  const all = await stack.deps!.ledger.list({ limit: 10 })
  t.equal(all.length, 2, 'two deliveries queued: the body and the sweep')
  const swept = all.find((d) => d.id !== hooked)!
  t.equal(swept.source, 'sweep')

  stack.app!.service.worker.start()
  await waitForStatus(stack, swept.id, ['sent', 'dead', 'skipped'], 30_000)
  const h = await waitForStatus(stack, hooked, ['sent', 'dead', 'skipped'], 30_000)
  await waitForIdle(stack)
  t.equal(stack.esbSim.received.length, 1, 'one ESB message')
  t.equal(stack.esbSim.received[0]?.values.activity_details, 'after')
  t.equal(h.status, 'skipped')
  t.match(h.lastError, new RegExp(`duplicate of delivery ${swept.id}`))
  t.equal((await stack.deps!.ledger.get(swept.id))?.status, 'sent')

  // The same stale body again later: Knack's record is SENT now; still one message.
  await postWebhook(stack, app, stale)
  await waitForIdle(stack)
  t.equal(stack.esbSim.received.length, 1, 'still one ESB message')
})

t.test('Knack cannot be read for a while: the attempt is retried, then Knack\'s record is sent', async (t) => {
  const stack = await startStack({ env: { RETRY_SCHEDULE: '100ms,200ms,400ms,800ms' } })
  t.teardown(() => stack.close())
  const act = activity()
  stack.seed(app, [act])
  // 1 + 3 tries of the client: the whole first attempt fails.
  stack.knackSim.failNext(4, { method: 'GET', pathIncludes: `/records/${act.id}`, status: 503 })
  const id = await webhook(t, stack, snapshot(stack, act.id))

  const d = await waitForStatus(stack, id, ['sent', 'dead', 'skipped'], 30_000)
  t.equal(d.status, 'sent', d.lastError ?? '')
  await waitForIdle(stack)
  t.equal(stack.esbSim.received.length, 1)
  const view = await getDelivery(stack, id)
  t.same(view.history.map((h) => [h.step, h.outcome]), [['knack', 'failed'], ['esb', 'accepted'], ['knack', 'updated']])
  t.match(view.history[0]?.detail, /Knack read before send: .*503/)
})

t.test('read once: a retry after the ESB refused the message does not read Knack again', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const act = activity()
  stack.seed(app, [act])
  stack.esbSim.failNext(1, { code: 'env:Server', string: 'Busy' })
  stack.knackSim.resetStats()
  const id = await webhook(t, stack, snapshot(stack, act.id))

  const d = await waitForStatus(stack, id, ['sent', 'dead', 'skipped'], 30_000)
  t.equal(d.status, 'sent', d.lastError ?? '')
  await waitForIdle(stack)
  const view = await getDelivery(stack, id)
  t.same(view.history.map((h) => [h.step, h.outcome]), [['esb', 'failed'], ['esb', 'accepted'], ['knack', 'updated']])
  t.equal(stack.knackSim.stats().byRoute[READ_ROUTE], 1, 'one read for two attempts: the delivery holds Knack\'s record')
})
