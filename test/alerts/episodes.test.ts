// States that last, driven by an injected clock: a delivery waiting longer than ALERT_STUCK_AFTER
// (one alert when it begins, one when it clears, none repeated after a restart) and the client
// certificate's expiry (14, 7 and 1 days before, and expired: each once, restart included).
import { X509Certificate } from 'node:crypto'
import { pino } from 'pino'
import t, { type Test } from 'tap'
import { createAlertChannels } from '../../src/alerts/channels/create.js'
import { buildApp } from '../../src/app.js'
import { createDeps } from '../../src/deps.js'
import type { NewDelivery } from '../../src/ledger/types.js'
import { createMetrics } from '../../src/observability/metrics.js'
import { startAlertStack, type AlertStack } from '../helpers/alert-stack.js'
import { waitFor } from '../helpers/stack.js'

const FAST = { tickMs: 100, backoffBaseMs: 50, backoffMaxMs: 400, certificateEveryMs: 0 }
const HOUR = 3_600_000
const DAY = 24 * HOUR
let n = 0
const row = (): NewDelivery => {
  n++
  return { app: 'data-tracker', recordId: `s${n}`, srNumber: `SR-S${n}`, atdActivityId: n, contentHash: `h${n}`, source: 'webhook', record: { id: `s${n}` } }
}

/** A second process on the same SQLite file, the same clock and the same receivers. */
async function restart(t: Test, a: AlertStack, clock: () => Date) {
  await a.stack.app!.close()
  const { config } = a.stack
  const made = await createDeps(config, pino({ level: 'silent' }), createMetrics({ defaultMetrics: false }))
  await made.alertChannels?.close()
  const alertChannels = createAlertChannels(config.alerts, { email: { ca: a.smtpPki.ca.cert } })
  const app = await buildApp(config, { ...made, alertChannels, clock, startWorker: false, alertOptions: FAST })
  await app.ready()
  // stack.close() closes the app it started; this one is the test's to close.
  t.teardown(() => app.close())
  a.stack.app = app
  a.stack.deps = { ...made, alertChannels }
  return app
}

const kinds = async (a: AlertStack) => (await a.stack.deps!.ledger.alerts.recent(100)).map((x) => x.kind).reverse()

t.test('a stuck delivery: one alert when the backlog is stuck, one when it clears; a restart repeats none', async (t) => {
  let now = Date.parse('2026-11-28T12:00:00Z')
  const clock = () => new Date(now)
  const a = await startAlertStack({ env: { ALERT_STUCK_AFTER: '1h' }, startWorker: false, deps: { clock, alertOptions: FAST } })
  t.teardown(() => a.close())
  const first = (await a.stack.deps!.ledger.enqueue(row(), 'once', clock())).delivery

  now += 30 * 60_000
  await a.stack.app!.service.alerts.tick()
  t.same(await kinds(a), [], 'waiting 30 minutes is not stuck')

  now += 31 * 60_000
  for (let i = 0; i < 3; i++) await a.stack.app!.service.alerts.tick()
  t.same(await kinds(a), ['delivery.stuck'], 'over an hour: one alert, however many ticks')
  const [stuck] = await a.webhook.waitFor(1)
  t.equal(stuck!.body.title, 'A delivery has waited over 1 h')
  t.match(JSON.stringify(stuck!.body.items), `/console/deliveries/${first.id}`)

  const app = await restart(t, a, clock)
  now += HOUR
  await app.service.alerts.tick()
  t.same(await kinds(a), ['delivery.stuck'], 'still stuck after a restart: no second alert')

  await a.stack.deps!.ledger.claim('w', 10, 60_000, clock())
  t.ok(await a.stack.deps!.ledger.finish(first.id, { owner: 'w', status: 'sent', attempts: 1, now: clock() }))
  await app.service.alerts.tick()
  await app.service.alerts.tick()
  t.same(await kinds(a), ['delivery.stuck', 'delivery.unstuck'], 'cleared: one alert')
  await waitFor(() => a.webhook.received.length === 2, 10_000, 'the cleared alert at the webhook')
  t.equal(a.webhook.received[1]!.body.title, 'Deliveries are moving again: none has waited over 1 h')
  t.match(JSON.stringify(a.webhook.received[1]!.body.facts), /"name":"For","value":"1 h"/, "stuck from when it was noticed to when it cleared")

  await a.stack.deps!.ledger.enqueue(row(), 'once', clock())
  now += 2 * HOUR
  await app.service.alerts.tick()
  t.same(await kinds(a), ['delivery.stuck', 'delivery.unstuck', 'delivery.stuck'], 'a new episode is a new alert')
})

t.test('the certificate: at 14, 7 and 1 days before expiry and once expired, each once', async (t) => {
  let now = Date.now()
  const clock = () => new Date(now)
  const a = await startAlertStack({ startWorker: false, deps: { clock, alertOptions: FAST } })
  t.teardown(() => a.close())
  const expiresAt = new Date(new X509Certificate(a.stack.pki.client.cert).validTo).getTime()
  const certAlerts = async () =>
    (await a.stack.deps!.ledger.alerts.recent(100))
      .filter((x) => x.kind === 'certificate.expiring')
      .map((x) => (x.payload as { threshold: number }).threshold)
      .reverse()
  const at = async (msBefore: number, ticks = 2) => {
    now = expiresAt - msBefore
    for (let i = 0; i < ticks; i++) await a.stack.app!.service.alerts.tick()
    return certAlerts()
  }
  t.same(await at(20 * DAY), [], '20 days left: nothing')
  t.same(await at(13.5 * DAY), [14], '13.5 days left: the 14-day alert')
  t.same(await at(8 * DAY), [14], 'not again before 7 days')
  t.same(await at(6.2 * DAY), [14, 7])
  t.same(await at(0.5 * DAY), [14, 7, 1])
  const app = await restart(t, a, clock)
  now = expiresAt - 0.4 * DAY
  await app.service.alerts.tick()
  t.same(await certAlerts(), [14, 7, 1], 'a restart repeats none')
  now = expiresAt + HOUR
  await app.service.alerts.tick()
  t.same(await certAlerts(), [14, 7, 1, 0], 'expired')
  await waitFor(() => a.webhook.received.filter((r) => r.body.kind === 'certificate.expiring').length === 4, 10_000, 'four certificate alerts')
  t.same(
    a.webhook.received.filter((r) => r.body.kind === 'certificate.expiring').map((r) => r.body.title),
    [
      'The ESB client certificate expires in 14 days',
      'The ESB client certificate expires in 7 days',
      'The ESB client certificate expires in 1 day',
      'The ESB client certificate has expired'
    ]
  )
  t.match(JSON.stringify(a.webhook.received.find((r) => r.body.kind === 'certificate.expiring')!.body.facts), /CN=knack311-client/)
})
