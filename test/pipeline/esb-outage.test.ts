// Pause, don't kill. The ESB down for longer than the whole RETRY_SCHEDULE — connection refused,
// then 503, then the 2021 "Internal Error" fault for every message — kills nothing and uses up no
// delivery's attempts: sending pauses, one probe goes per ESB_PROBE_EVERY, /readyz says so (and
// stays 200), and everything is sent within moments of recovery. Knack-only work carries on.
import t from 'tap'
import type { ServiceEvent } from '../../src/events/types.js'
import type { Stack } from '../../src/sandbox/stack.js'
import { captureLogs } from '../helpers/logs.js'
import { activity, knackRecord, postWebhook, startStack, waitFor, waitForStatus } from '../helpers/stack.js'
import { postSweep, waitForIdle, waitForKnackStatus } from '../helpers/pipeline.js'

const app = 'data-tracker'
const SCHEDULE_MS = [100, 200, 400]

interface EsbCheck {
  ok: boolean
  state: 'ok' | 'paused'
  since: string | null
  last_error: string | null
  cause?: string
  reason?: string
  next_probe_at?: string | null
}

async function readyEsb(stack: Stack): Promise<{ status: number; esb: EsbCheck }> {
  const res = await stack.app!.inject({ method: 'GET', url: '/readyz' })
  return { status: res.statusCode, esb: res.json<{ checks: { esb: EsbCheck } }>().checks.esb }
}

/** Every ESB attempt row of these deliveries whose detail matches. */
async function esbRows(stack: Stack, ids: number[], detail: RegExp) {
  const all = await Promise.all(ids.map((id) => stack.deps!.ledger.attempts(id)))
  return all.flat().filter((a) => a.step === 'esb' && detail.test(a.detail ?? ''))
}

t.test('refused, then 503, then SOAP faults for everything, longer than RETRY_SCHEDULE: nothing dead, no attempt used, sent on recovery', async (t) => {
  const { logger, lines } = captureLogs()
  const stack = await startStack({
    logger,
    env: { RETRY_SCHEDULE: SCHEDULE_MS.map((ms) => `${ms}ms`).join(','), ESB_PAUSE_AFTER: '3', ESB_PROBE_EVERY: '100ms', LOG_LEVEL: 'info' }
  })
  t.teardown(() => stack.close())
  const events: ServiceEvent[] = []
  stack.app!.service.events.on((e) => void events.push(e))
  const acts = Array.from({ length: 12 }, (_, i) => activity({ srNumber: `26-OUT-${i % 6}`, atdActivityId: 7000 + i }))
  stack.seed(app, acts)

  // 1. Connection refused.
  await stack.esbSim.down()
  const outageStart = Date.now()
  t.equal((await postSweep(stack, app)).json<{ queued: number }>().queued, 12)
  const ids = (await stack.deps!.ledger.list({ app, limit: 100 })).map((d) => d.id)
  const paused = await waitFor(async () => {
    const r = await readyEsb(stack)
    return r.esb.state === 'paused' ? r : undefined
  }, 30_000, 'sending to pause')
  t.equal(paused.status, 200, '/readyz stays 200 while paused')
  t.equal(paused.esb.ok, true)
  t.equal(paused.esb.cause, 'endpoint')
  t.match(paused.esb.last_error, /connection refused/)
  t.match(paused.esb.reason, /endpoint failed 3 times in a row/)
  t.ok(paused.esb.since, 'since when')
  const pausedAt = Date.parse(paused.esb.since ?? '')
  const probesSince = async (detail: RegExp) => (await esbRows(stack, ids, detail)).filter((a) => a.startedAt.getTime() > pausedAt)
  await waitFor(async () => ((await probesSince(/connection refused/)).length >= 3 ? true : undefined), 30_000, 'probes while refused')

  // 2. Up again, but answering 503 to everything.
  stack.esbSim.mode({ status: 503 })
  await stack.esbSim.up()
  await waitFor(async () => ((await probesSince(/^HTTP 503/)).length >= 3 ? true : undefined), 30_000, 'probes answered 503')

  // 3. The 2021 outage: a SOAP fault for every message. Already paused, so not the records' fault.
  stack.esbSim.mode({ fault: { code: 'env:Client', string: 'Internal Error' } })
  await waitFor(async () => ((await probesSince(/env:Client: Internal Error/)).length >= 3 ? true : undefined), 30_000, 'probes answered with the fault')
  const duringFault = await readyEsb(stack)
  t.equal(duringFault.esb.state, 'paused')
  t.equal(duringFault.esb.cause, 'record', 'the cause follows the newest failure')

  // Longer than the whole schedule, and yet:
  const outageMs = Date.now() - outageStart
  t.ok(outageMs > SCHEDULE_MS.reduce((a, b) => a + b, 0), `the outage (${outageMs} ms) outlasted RETRY_SCHEDULE`)
  const during = await stack.deps!.ledger.list({ app, limit: 100 })
  t.same(during.filter((d) => d.status === 'dead'), [], 'nothing dead')
  t.ok(Math.max(...during.map((d) => d.attempts)) < SCHEDULE_MS.length, `attempts per delivery stay below the schedule's length (max ${Math.max(...during.map((d) => d.attempts))})`)
  const faultRows = await esbRows(stack, ids, /env:Client: Internal Error/)
  t.ok(faultRows.every((a) => a.outcome === 'endpoint' && /not counted/.test(a.detail ?? '')), 'faults while paused are not counted against the records')
  t.equal(stack.esbSim.received.length, 0)
  const metricsPaused = (await stack.app!.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metricsPaused, /^knack311_esb_paused 1$/m, 'the gauge shows the pause')
  t.match(metricsPaused, /^knack311_esb_pauses_total\{cause="endpoint"\} 1$/m, 'one pause counted')

  // Recovery: everything sent within seconds, resumed once.
  stack.esbSim.mode('ok')
  await waitForKnackStatus(stack, app, acts.map((a) => a.id), 'SENT', 10_000)
  await waitForIdle(stack)
  t.equal(stack.esbSim.received.length, 12, 'one message per record')
  const after = await readyEsb(stack)
  t.equal(after.esb.state, 'ok')
  t.match(after.esb.last_error, /Internal Error/, 'the last error is kept for the record')
  t.same(events.filter((e) => e.type === 'esb.paused').length, 1, 'one esb.paused')
  t.same(events.filter((e) => e.type === 'esb.resumed').length, 1, 'one esb.resumed')
  const resumed = events.find((e) => e.type === 'esb.resumed')
  t.equal(resumed?.type === 'esb.resumed' ? resumed.pausedSince.getTime() : 0, pausedAt, 'resumed says since when it was paused')
  t.match((await stack.app!.inject({ method: 'GET', url: '/metrics' })).body, /^knack311_esb_paused 0$/m)
  t.ok(lines.some((l) => /"msg":"ESB sending paused"/.test(l)), 'the pause is logged')
  t.ok(lines.some((l) => /"msg":"ESB sending resumed"/.test(l)), 'and the resume')
  const final = await stack.deps!.ledger.list({ app, limit: 100 })
  t.same(final.filter((d) => d.status !== 'sent'), [], 'all sent')
  t.same(final.filter((d) => d.attempts !== 1), [], 'each with the one counted attempt that was accepted')
})

t.test('while paused, Knack-only work carries on: an ESB-accepted delivery is marked SENT', async (t) => {
  // No probe during this test: it is about what the pause lets through.
  const stack = await startStack({ env: { RETRY_SCHEDULE: '300ms,300ms,300ms,300ms', ESB_PAUSE_AFTER: '2', ESB_PROBE_EVERY: '1h' } })
  t.teardown(() => stack.close())
  const [accepted, b, c] = [activity(), activity(), activity()] as const
  stack.seed(app, [accepted, b, c])

  // The ESB takes the first; Knack refuses its PUT for a whole attempt: it waits in esb_accepted.
  stack.knackSim.failNext(4, { method: 'PUT', status: 503 })
  const first = (await postWebhook(stack, app, knackRecord(stack, app, accepted.id))).json<{ delivery: number }>().delivery
  await waitForStatus(stack, first, ['esb_accepted'], 10_000)

  await stack.esbSim.down()
  const others = await Promise.all([b, c].map(async (x) => (await postWebhook(stack, app, knackRecord(stack, app, x.id))).json<{ delivery: number }>().delivery))
  await waitFor(async () => ((await readyEsb(stack)).esb.state === 'paused' ? true : undefined), 10_000, 'sending to pause')

  const sent = await waitForStatus(stack, first, ['sent'], 10_000)
  t.equal(sent.status, 'sent', 'the Knack update went through while paused')
  t.equal((await readyEsb(stack)).esb.state, 'paused', 'still paused')
  for (const id of others) {
    const d = await stack.deps!.ledger.get(id)
    t.equal(d?.status, 'failed', `delivery ${id} waits for the ESB`)
    t.equal(d?.attempts, 0, 'with no attempt used')
  }
  t.equal(stack.esbSim.received.length, 1)
})
