// The outbox's sending: a channel down for a while gets its alerts once it is back, each once and
// in order, while the other channels carry on; a hanging channel holds up no delivery; a refused
// payload is given up on without blocking the next; an alert too old to matter expires.
import t from 'tap'
import type { ServiceEvent } from '../../src/events/types.js'
import { activity, adminHeaders, waitFor } from '../helpers/stack.js'
import { startAlertStack, waitOutboxSettled, type AlertStack } from '../helpers/alert-stack.js'

const FAST = { tickMs: 100, backoffBaseMs: 50, backoffMaxMs: 400 }
const app = 'data-tracker'

function events(n: number, base = Date.parse('2026-11-28T13:00:00.000Z')): ServiceEvent[] {
  return Array.from({ length: n }, (_, i): ServiceEvent => {
    const since = new Date(base + i * 60_000)
    return i % 2 === 0
      ? { type: 'esb.paused', at: since, since, lastError: `HTTP 503 number ${i}` }
      : { type: 'esb.resumed', at: new Date(since.getTime() + 30_000), pausedSince: new Date(since.getTime() - 60_000), lastError: null }
  })
}

async function overview(a: AlertStack) {
  const res = await a.stack.app!.inject({ method: 'GET', url: '/alerts', headers: adminHeaders(a.stack) })
  return res.json<{
    channels: Array<{ channel: string; failing: boolean; pending: number; last_error: string | null; attempts: number }>
    alerts: Array<{ id: number; kind: string; sends: Array<{ channel: string; status: string; last_error: string | null }> }>
  }>()
}
const channel = async (a: AlertStack, name: string) => (await overview(a)).channels.find((c) => c.channel === name)!

t.test('a channel down for a while: its alerts arrive once it is back, each once, in order; others carry on', async (t) => {
  const a = await startAlertStack({ deps: { alertOptions: FAST } })
  t.teardown(() => a.close())
  a.slack.failWith(503)
  await a.webhook.down()
  for (const e of events(5)) a.stack.app!.service.events.emit(e)

  await Promise.all([a.teams.waitFor(5), a.smtp.waitFor(5)])
  t.pass('Teams and e-mail got all five while Slack and the webhook were down')
  await waitFor(() => a.slack.attempts >= 3, 10_000, 'Slack to be retried')
  t.equal(a.slack.received.length, 0, 'Slack took nothing yet')
  t.equal(a.webhook.received.length, 0)
  const slack = await channel(a, 'slack')
  t.ok(slack.failing, 'GET /alerts: Slack is failing')
  t.equal(slack.pending, 5)
  t.equal(slack.last_error, 'Slack answered HTTP 503 unavailable')
  const hook = await channel(a, 'webhook')
  t.ok(hook.failing)
  t.match(hook.last_error, /connection refused/)
  t.notOk((await channel(a, 'teams')).failing, 'Teams is not failing')
  t.ok(a.slack.attempts < 5 * 10, `backoff and one alert at a time: ${a.slack.attempts} tries, not a storm`)
  t.match((await a.stack.app!.inject({ method: 'GET', url: '/metrics' })).body, /knack311_alert_sends_total\{event="esb\.paused",channel="slack",outcome="retry"\} [1-9]/)

  a.slack.failWith(null)
  await a.webhook.up()
  await Promise.all([a.slack.waitFor(5), a.webhook.waitFor(5)])
  await waitOutboxSettled(a.stack)
  const written = (await overview(a)).alerts.map((x) => x.id).reverse()
  for (const r of a.receivers) {
    t.same(r.problems, [])
    t.equal(r.received.length, 5, `${r.kind}: five alerts, none twice`)
  }
  t.same(a.webhook.received.map((r) => r.body.id), written, 'in the order they were written')
  t.same(a.smtp.received.length, 5)
  t.notOk((await channel(a, 'slack')).failing, 'Slack is no longer failing')

  // The same events again (a replica, a repeat): the keys are taken, nothing new is sent.
  for (const e of events(5)) a.stack.app!.service.events.emit(e)
  await a.stack.app!.service.alerts.flushed()
  await a.stack.app!.service.alerts.tick()
  t.equal((await overview(a)).alerts.length, 5, 'still five alerts')
  t.same((await a.stack.deps!.ledger.alerts.channelQueues()).map((q) => q.pending), [0, 0, 0, 0], 'nothing pending')
})

t.test('a channel that hangs holds up no delivery', async (t) => {
  const a = await startAlertStack({ deps: { alertOptions: FAST } })
  t.teardown(() => a.close())
  a.slack.hang(true)
  a.stack.app!.service.events.emit(events(1)[0]!)
  await waitFor(() => a.slack.attempts === 1, 10_000, 'the Slack request to be in flight')
  await a.teams.waitFor(1)

  const acts = Array.from({ length: 20 }, () => activity())
  a.stack.seed(app, acts)
  const sweep = await a.stack.app!.inject({ method: 'POST', url: `/apps/${app}/sweep?wait=true`, headers: adminHeaders(a.stack) })
  t.equal(sweep.statusCode, 200)
  t.same(sweep.json<{ outcomes: Record<string, number> }>().outcomes, { sent: 20 }, 'all 20 delivered')
  t.equal(a.slack.attempts, 1, 'while the one Slack request was still hanging')
  t.equal(a.slack.received.length, 0)

  a.slack.hang(false)
  await a.slack.waitFor(1)
  t.pass('Slack gets the alert once it answers again')
})

t.test('a payload the channel refuses is given up on; the next alert goes', async (t) => {
  const a = await startAlertStack({ deps: { alertOptions: FAST } })
  t.teardown(() => a.close())
  a.slack.failWith(400, 'invalid_blocks')
  const [first, second] = events(2)
  a.stack.app!.service.events.emit(first!)
  await waitFor(async () => (await overview(a)).alerts[0]?.sends.find((s) => s.channel === 'slack')?.status === 'failed', 10_000, 'the refused send')
  t.equal(a.slack.attempts, 1, 'a refused payload is not retried')
  const refused = await channel(a, 'slack')
  t.ok(refused.failing, 'the channel shows as failing')
  t.equal(refused.last_error, 'Slack answered HTTP 400 invalid_blocks')
  a.slack.failWith(null)
  a.stack.app!.service.events.emit(second!)
  await a.slack.waitFor(1)
  await waitOutboxSettled(a.stack)
  t.equal(a.slack.received[0]!.body.text?.toString().startsWith('Sending to the ESB resumed'), true, 'the next alert went')
  t.notOk((await channel(a, 'slack')).failing, 'and the channel is fine again')
})

t.test('an alert not out within its time expires instead of arriving late', async (t) => {
  const a = await startAlertStack({ deps: { alertOptions: { ...FAST, maxAgeMs: 300 } } })
  t.teardown(() => a.close())
  await a.slack.down()
  a.stack.app!.service.events.emit(events(1)[0]!)
  await a.teams.waitFor(1)
  await waitFor(async () => (await overview(a)).alerts[0]?.sends.find((s) => s.channel === 'slack')?.status === 'expired', 10_000, 'the Slack send to expire')
  await a.slack.up()
  await a.stack.app!.service.alerts.tick()
  t.equal(a.slack.received.length, 0, 'nothing arrives after it expired')
  t.match((await a.stack.app!.inject({ method: 'GET', url: '/metrics' })).body, /knack311_alert_sends_total\{event="esb\.paused",channel="slack",outcome="expired"\} 1/)
})
