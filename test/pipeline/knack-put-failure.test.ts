// A Knack failure after the ESB said yes retries only the Knack update: the ESB gets one message.
import t, { type Test } from 'tap'
import type { Stack } from '../../src/sandbox/stack.js'
import { activity, knackRecord, knackStatus, postWebhook, startStack, waitFor, waitForStatus } from '../helpers/stack.js'
import { getDelivery, waitForIdle } from '../helpers/pipeline.js'

const app = 'data-tracker'

async function queueOne(t: Test, retrySchedule: string) {
  const stack = await startStack({ env: { RETRY_SCHEDULE: retrySchedule } })
  t.teardown(() => stack.close())
  const act = activity()
  stack.seed(app, [act])
  return { stack, act }
}

async function webhook(t: Test, stack: Stack, id: string): Promise<number> {
  const res = await postWebhook(stack, app, knackRecord(stack, app, id))
  t.equal(res.statusCode, 202, 'webhook queued')
  return res.json<{ delivery: number }>().delivery
}

t.test('3 failed PUTs are absorbed by the Knack client: one ESB message, record SENT', async (t) => {
  const { stack, act } = await queueOne(t, '50ms,100ms,200ms')
  stack.knackSim.failNext(3, { method: 'PUT', status: 503 })
  const id = await webhook(t, stack, act.id)

  const d = await waitForStatus(stack, id, ['sent', 'dead'], 30_000)
  t.equal(d.status, 'sent')
  t.equal(knackStatus(stack, app, act.id), 'SENT')
  await waitForIdle(stack)
  t.equal(stack.esbSim.received.length, 1, 'exactly one ESB message')
  t.equal(stack.knackSim.stats().byRoute['PUT /objects/:obj/records/:id'], 4, '3 failed PUTs and the one that worked')
  const view = await getDelivery(stack, id)
  t.equal(view.history.filter((h) => h.step === 'esb').length, 1, 'one ESB attempt')
})

t.test('more PUT failures than the client retries: the delivery waits in esb_accepted, then only Knack is retried', async (t) => {
  // The first wait is long enough to see the row resting in esb_accepted between attempts.
  const { stack, act } = await queueOne(t, '300ms,300ms,300ms,300ms')
  // The client makes 1 + 3 tries per attempt: 6 failures fail one whole attempt and two tries of the next.
  stack.knackSim.failNext(6, { method: 'PUT', status: 503 })
  const id = await webhook(t, stack, act.id)

  const waiting = await waitFor(async () => {
    const v = await getDelivery(stack, id)
    // Resting, not mid-attempt: the failed Knack try is in the history AND the retry is scheduled
    // (the attempt row and the status change are two writes; between them last_error is not set yet).
    return v.status === 'esb_accepted' && v.history.some((h) => h.step === 'knack') && v.last_error !== null ? v : undefined
  }, 30_000, 'the delivery to wait in esb_accepted after a Knack failure')
  t.ok(waiting.esb_accepted_at, 'the ESB yes is on record')
  t.ok(waiting.next_attempt_at, 'a retry is scheduled')
  t.match(waiting.last_error, /Knack status update: .*503/, 'last_error names the Knack failure')
  t.equal(stack.esbSim.received.length, 1, 'the ESB has the message once')

  const d = await waitForStatus(stack, id, ['sent', 'dead'], 30_000)
  t.equal(d.status, 'sent')
  t.equal(knackStatus(stack, app, act.id), 'SENT')
  await waitForIdle(stack)
  t.equal(stack.esbSim.received.length, 1, 'still exactly one ESB message')

  const view = await getDelivery(stack, id)
  const esb = view.history.filter((h) => h.step === 'esb')
  const knack = view.history.filter((h) => h.step === 'knack')
  t.equal(esb.length, 1, 'ONE esb attempt')
  t.equal(esb[0]?.outcome, 'accepted')
  t.same(knack.map((h) => h.outcome), ['failed', 'updated'], 'a failed Knack update, then the one that worked')
  t.equal(view.attempts, 2)
  t.equal(view.last_error, null)
})

t.test('Knack answering 400 to the PUT: dead with Knack\'s message, ESB got it once', async (t) => {
  const { stack, act } = await queueOne(t, '50ms,100ms,200ms')
  const message = 'Field field_1860 must be one of the choices'
  stack.knackSim.failNext(1, { method: 'PUT', status: 400, body: { errors: [{ message }] } })
  const id = await webhook(t, stack, act.id)

  const d = await waitForStatus(stack, id, ['sent', 'dead'], 30_000)
  t.equal(d.status, 'dead')
  t.match(d.lastError, message, "the reason carries Knack's message")
  t.match(d.lastError, /400/)
  await waitForIdle(stack)
  t.equal(stack.esbSim.received.length, 1, 'the ESB got it once')
  t.equal(stack.knackSim.stats().byRoute['PUT /objects/:obj/records/:id'], 1, 'a 400 is not retried')
  t.equal(knackStatus(stack, app, act.id), 'READY_TO_SEND', 'Knack unchanged')
  const view = await getDelivery(stack, id)
  t.same(view.history.map((h) => `${h.step}:${h.outcome}`), ['esb:accepted', 'knack:failed'])
})
