// The ESB answering SOAP faults about the records: deliveries wait and retry per RETRY_SCHEDULE,
// keep the fault as their last error, and go through once the ESB is healthy; past the schedule
// they are dead. (When ESB_PAUSE_AFTER different records in a row get a fault, that is the ESB
// failing, not the records: sending pauses instead — test/pipeline/esb-outage.test.ts.)
import t from 'tap'
import { activity, adminHeaders, knackRecord, knackStatus, postWebhook, startStack, waitFor, waitForStatus } from '../helpers/stack.js'
import { getDelivery, postSweep, waitForIdle, waitForKnackStatus } from '../helpers/pipeline.js'

const app = 'data-tracker'
const FAULT = { code: 'env:Client', string: 'Internal Error' }

t.test('faults for a while, then ok: every record delivered, the faults on record', async (t) => {
  // Plenty of short waits: the outage must not exhaust the schedule. Five records all faulting
  // would pause sending at the default ESB_PAUSE_AFTER; a higher one keeps this about each
  // record's own retries.
  const stack = await startStack({ env: { RETRY_SCHEDULE: Array.from({ length: 200 }, () => '50ms').join(','), ESB_PAUSE_AFTER: '50' } })
  t.teardown(() => stack.close())
  const acts = Array.from({ length: 5 }, () => activity())
  stack.seed(app, acts)
  stack.esbSim.mode({ fault: FAULT })

  const sweep = await postSweep(stack, app)
  t.equal(sweep.statusCode, 200, 'sweep answered')
  t.equal(sweep.json<{ queued: number }>().queued, 5)
  const list = await stack.app!.inject({ method: 'GET', url: `/deliveries?app=${app}`, headers: adminHeaders(stack) })
  const ids = list.json<Array<{ id: number }>>().map((d) => d.id)
  t.equal(ids.length, 5, 'five deliveries')

  // Every delivery has failed at least twice against the faulting ESB, and says why.
  const failing = await waitFor(async () => {
    const views = await Promise.all(ids.map((id) => getDelivery(stack, id)))
    // A row may be caught mid-attempt ('sending'); its last_error still holds the previous fault.
    return views.every((v) => v.attempts >= 2 && v.last_error !== null) ? views : undefined
  }, 30_000, 'every delivery to have failed twice')
  for (const v of failing) {
    t.match(v.last_error, 'env:Client: Internal Error', `delivery ${v.id}: last_error holds the fault`)
    t.ok(v.status === 'failed' || v.status === 'sending', `delivery ${v.id}: ${v.status}, waiting to retry`)
  }
  t.equal(stack.esbSim.received.length, 0, 'nothing accepted while faulting')
  t.ok(acts.every((a) => knackStatus(stack, app, a.id) === 'READY_TO_SEND'), 'Knack untouched while faulting')

  stack.esbSim.mode('ok')
  await waitForKnackStatus(stack, app, acts.map((a) => a.id), 'SENT')
  await waitForIdle(stack)
  t.equal(stack.esbSim.received.length, 5, 'each record accepted once')
  for (const id of ids) {
    const v = await getDelivery(stack, id)
    t.equal(v.status, 'sent')
    t.ok(v.attempts > 1, `delivery ${id}: attempts ${v.attempts} > 1`)
    t.equal(v.last_error, null, 'the error cleared on success')
    const esb = v.history.filter((h) => h.step === 'esb')
    const failed = esb.filter((h) => h.outcome === 'failed')
    t.ok(failed.length >= 2, `delivery ${id}: failed ESB attempts in the history`)
    t.ok(failed.every((h) => /env:Client: Internal Error/.test(h.detail ?? '')), 'each names the fault')
    t.equal(esb.filter((h) => h.outcome === 'accepted').length, 1, 'then one accepted')
    t.equal(esb.at(-1)?.outcome, 'accepted', 'the accepted one is the last')
  }
})

t.test('a 2xx carrying a SOAP fault counts as a failure', async (t) => {
  const stack = await startStack({ env: { RETRY_SCHEDULE: '50ms,100ms,200ms' } })
  t.teardown(() => stack.close())
  const act = activity()
  stack.seed(app, [act])
  stack.esbSim.failNext(1, { code: 'env:Server', string: 'Backend busy', status: 200 })

  const res = await postWebhook(stack, app, knackRecord(stack, app, act.id))
  t.equal(res.statusCode, 202)
  const id = res.json<{ delivery: number }>().delivery
  const d = await waitForStatus(stack, id, ['sent', 'dead'], 30_000)
  t.equal(d.status, 'sent', 'sent on the retry')
  t.equal(d.attempts, 2, 'the faulted 200 was one failed attempt')
  const v = await getDelivery(stack, id)
  const esb = v.history.filter((h) => h.step === 'esb')
  t.same(esb.map((h) => h.outcome), ['failed', 'accepted'])
  t.match(esb[0]?.detail, /HTTP 200 with SOAP fault env:Server: Backend busy/)
  t.equal(stack.esbSim.attempts, 2, 'the ESB was asked twice')
  t.equal(stack.esbSim.received.length, 1, 'and accepted once')
  t.equal(knackStatus(stack, app, act.id), 'SENT')
})

t.test('RETRY_SCHEDULE exhausted: the delivery is dead with the fault', async (t) => {
  const stack = await startStack({ env: { RETRY_SCHEDULE: '50ms,100ms' } })
  t.teardown(() => stack.close())
  const act = activity()
  stack.seed(app, [act])
  stack.esbSim.mode({ fault: FAULT })

  const res = await postWebhook(stack, app, knackRecord(stack, app, act.id))
  t.equal(res.statusCode, 202)
  const id = res.json<{ delivery: number }>().delivery
  const d = await waitForStatus(stack, id, ['sent', 'dead'], 30_000)
  t.equal(d.status, 'dead')
  t.equal(d.attempts, 3, 'the first try and one per scheduled wait')
  t.match(d.lastError, /gave up after 3 attempts: .*env:Client: Internal Error/)
  await waitForIdle(stack)
  t.equal(stack.esbSim.attempts, 3, 'no attempt after the schedule ran out')
  t.equal(stack.esbSim.received.length, 0)
  t.equal(knackStatus(stack, app, act.id), 'READY_TO_SEND', 'not marked SENT')
  const v = await getDelivery(stack, id)
  t.same(v.history.map((h) => `${h.step}:${h.outcome}`), ['esb:failed', 'esb:failed', 'esb:failed'])
})

t.test('one record that always gets a SOAP fault while 20 others go through: it alone is dead', async (t) => {
  // The default ESB_PAUSE_AFTER (5): the others' successes keep emptying the record streak, and
  // the bad record's own retries are one delivery, however often they fault.
  const stack = await startStack({ env: { RETRY_SCHEDULE: '50ms,100ms,200ms' } })
  t.teardown(() => stack.close())
  const bad = activity({ details: 'the ESB always rejects this one' })
  const good = Array.from({ length: 20 }, () => activity())
  stack.seed(app, [bad, ...good])
  stack.esbSim.faultWhen((v) => v.id === bad.id, FAULT)

  t.equal((await postSweep(stack, app)).json<{ queued: number }>().queued, 21)
  await waitForKnackStatus(stack, app, good.map((g) => g.id), 'SENT')
  const rows = await waitFor(async () => {
    const list = await stack.app!.inject({ method: 'GET', url: `/deliveries?app=${app}`, headers: adminHeaders(stack) })
    const all = list.json<Array<{ id: number; record_id: string; status: string; attempts: number; last_error: string | null }>>()
    return all.every((r) => r.status === 'sent' || r.status === 'dead') ? all : undefined
  }, 30_000, 'every delivery to settle')
  await waitForIdle(stack)
  const dead = rows.filter((r) => r.status === 'dead')
  t.same(dead.map((r) => r.record_id), [bad.id], 'only the bad record is dead')
  t.equal(dead[0]?.attempts, 4, 'after its full schedule')
  t.match(dead[0]?.last_error, /gave up after 4 attempts: .*env:Client: Internal Error/)
  t.equal(rows.filter((r) => r.status === 'sent').length, 20, 'the 20 others sent')
  t.equal(stack.esbSim.received.length, 20)
  const ready = await stack.app!.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.json<{ checks: { esb: { state: string } } }>().checks.esb.state, 'ok', 'one bad record never pauses sending')
})
