// 12 deliveries going dead within a minute → one grouped alert per channel naming all 12, with a
// console link each; the outbox, GET /alerts and the metrics agree.
import t from 'tap'
import { activity, adminHeaders, waitFor, waitForStatus } from '../helpers/stack.js'
import { EMAIL_TO, PUBLIC_URL, startAlertStack, waitOutboxSettled } from '../helpers/alert-stack.js'

const app = 'data-tracker'

t.test('12 dead deliveries within a minute: one alert per channel, all 12 named', async (t) => {
  const a = await startAlertStack({ env: { ALERT_GROUP_WINDOW: '10s' } })
  t.teardown(() => a.close())
  const { stack } = a
  // An activity name the app file does not know: each delivery goes dead on its first attempt.
  const acts = Array.from({ length: 12 }, (_, i) => activity({ activityName: `Unknown Activity ${i}` }))
  stack.seed(app, acts)
  const sweep = await stack.app!.inject({ method: 'POST', url: `/apps/${app}/sweep`, headers: adminHeaders(stack) })
  t.equal(sweep.json<{ queued: number }>().queued, 12)
  const ids = await waitFor(async () => {
    const rows = await stack.deps!.ledger.list({ app, limit: 100 })
    return rows.length === 12 && rows.every((r) => r.status === 'dead') ? rows.map((r) => r.id) : undefined
  }, 20_000, 'all 12 dead')
  for (const id of ids) await waitForStatus(stack, id, ['dead'])

  await Promise.all([...a.receivers.map((r) => r.waitFor(1)), a.smtp.waitFor(1)])
  await waitOutboxSettled(stack)
  for (const r of a.receivers) {
    t.same(r.problems, [], `${r.kind}: the payload has the shape the service documents`)
    t.equal(r.received.length, 1, `${r.kind}: one alert`)
    const text = r.texts()[0] ?? ''
    for (const act of acts) {
      t.ok(text.includes(act.id) && text.includes(act.srNumber), `${r.kind} names record ${act.id} and SR ${act.srNumber}`)
    }
    for (const id of ids) t.ok(text.includes(`${PUBLIC_URL}/console/deliveries/${id}`), `${r.kind} links delivery ${id}`)
    t.match(text, /Unknown Activity 0/, `${r.kind} gives the reason`)
  }
  t.equal(a.smtp.received.length, 1, 'one e-mail')
  const mail = a.smtp.received[0]!
  t.same(mail.to.sort(), [...EMAIL_TO].sort(), 'to every recipient')
  t.equal(mail.parsed.subject, '[knack311] ALERT: 12 deliveries went dead')
  for (const act of acts) t.ok(mail.parsed.text?.includes(act.srNumber), `the e-mail names SR ${act.srNumber}`)

  const alerts = await stack.app!.inject({ method: 'GET', url: '/alerts', headers: adminHeaders(stack) })
  t.equal(alerts.statusCode, 200)
  const body = alerts.json<{ alerts: Array<{ kind: string; title: string; sends: Array<{ channel: string; status: string }> }>; channels: Array<{ channel: string; failing: boolean; pending: number }> }>()
  const dead = body.alerts.filter((x) => x.kind === 'deliveries.dead')
  t.equal(dead.length, 1, 'one dead-deliveries alert in the outbox')
  t.equal(dead[0]?.title, '12 deliveries went dead')
  t.same(dead[0]?.sends.map((s) => `${s.channel}:${s.status}`).sort(), ['email:sent', 'slack:sent', 'teams:sent', 'webhook:sent'])
  t.same(body.channels.map((c) => `${c.channel}:${c.failing}:${c.pending}`), ['slack:false:0', 'teams:false:0', 'webhook:false:0', 'email:false:0'])
  t.equal((await stack.app!.inject({ method: 'GET', url: '/alerts' })).statusCode, 401, 'GET /alerts needs a token')

  const metrics = (await stack.app!.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /knack311_alerts_total\{event="deliveries\.dead"\} 1/)
  for (const channel of ['slack', 'teams', 'webhook', 'email']) {
    t.match(metrics, new RegExp(`knack311_alert_sends_total\\{event="deliveries\\.dead",channel="${channel}",outcome="sent"\\} 1`))
    t.match(metrics, new RegExp(`knack311_alert_sends_pending\\{channel="${channel}"\\} 0`))
  }
})

t.test('a death whose announcement was lost (the process stopped in between) is still alerted, once', async (t) => {
  let now = Date.parse('2026-11-28T12:00:00Z')
  const clock = () => new Date(now)
  const a = await startAlertStack({ env: { ALERT_GROUP_WINDOW: '1m' }, startWorker: false, deps: { clock, alertOptions: { tickMs: 100, backoffBaseMs: 50, backoffMaxMs: 400 } } })
  t.teardown(() => a.close())
  const { ledger } = a.stack.deps!
  const service = a.stack.app!.service
  const dies = async (recordId: string, announce: boolean) => {
    const { delivery } = await ledger.enqueue({ app, recordId, srNumber: `SR-${recordId}`, atdActivityId: 1, contentHash: recordId, source: 'sweep', record: { id: recordId } }, 'once', clock())
    await ledger.claim('w', 10, 60_000, clock())
    await ledger.finish(delivery.id, { owner: 'w', status: 'dead', attempts: 3, lastError: `reason for ${recordId}`, now: clock() })
    if (announce) service.events.emit({ type: 'delivery.dead', at: clock(), delivery: { id: delivery.id, app, recordId, srNumber: `SR-${recordId}` }, reason: `reason for ${recordId}` })
    return delivery.id
  }
  const announcedId = await dies('announced', true)
  const lostId = await dies('lost', false)
  await service.alerts.flushed()

  now += 30_000
  await service.alerts.tick()
  t.same((await ledger.alerts.recent(10)).filter((x) => x.kind === 'deliveries.dead'), [], 'nothing before the group closes')
  now += 61_000 // the lost one has been dead over a minute: parked; the group's first item is over a minute old
  await service.alerts.tick()
  now += 61_000
  await service.alerts.tick()
  const [hook] = await a.webhook.waitFor(1)
  const data = hook!.body.data as { count: number; deliveries: Array<{ id: number; reason: string }> }
  t.same(data.deliveries.map((d) => d.id).sort(), [announcedId, lostId].sort(), 'both in the alert, each once')
  t.match(data.deliveries.find((d) => d.id === lostId)?.reason, 'reason for lost', 'with the reason the ledger holds')
  now += 3_600_000
  await service.alerts.tick()
  await waitOutboxSettled(a.stack)
  t.equal((await ledger.alerts.recent(10)).filter((x) => x.kind === 'deliveries.dead').length, 1, 'and never again')
})
