// What each event the service announces becomes: its outbox write and dedupe key, and through the
// running service one alert per event (repeats of the same event collapse), Knack application ids
// shown as app names. The ESB and Knack modules' own emitters are tested in their branches; here
// events are emitted on the service's Events as they would be.
import { createHash } from 'node:crypto'
import t from 'tap'
import { outboxWriteFor, type EventContext } from '../../src/alerts/from-events.js'
import type { ServiceEvent } from '../../src/events/types.js'
import { startAlertStack, waitOutboxSettled } from '../helpers/alert-stack.js'

const ctx: EventContext = { timezone: 'America/Chicago', appName: (x) => (x === 'app-id-123456' ? 'data-tracker' : x) }
const at = new Date('2026-11-28T05:30:00Z') // 23:30 on the 27th in Chicago

t.test('every event type maps to one keyed write', async (t) => {
  const since = new Date('2026-11-28T04:00:00Z')
  const cases: Array<[ServiceEvent, string]> = [
    [{ type: 'delivery.dead', at, delivery: { id: 7, app: 'data-tracker', recordId: 'r7', srNumber: 'SR-7' }, reason: 'x' }, `group delivery.dead 7:${at.getTime()}`],
    [{ type: 'esb.paused', at, since, lastError: 'HTTP 503' }, 'alert esb.paused:2026-11-28T04:00:00.000Z'],
    [{ type: 'esb.resumed', at, pausedSince: since, lastError: null }, 'alert esb.resumed:2026-11-28T04:00:00.000Z'],
    [{ type: 'knack.credentials_refused', at, app: 'app-id-123456', status: 401, message: 'Invalid API key' }, `alert knack.credentials_refused:data-tracker:${Math.floor(at.getTime() / 3_600_000)}`],
    [{ type: 'knack.plan_low', at, app: 'data-tracker', remaining: 10, limit: 1000 }, 'alert knack.plan_low:data-tracker:2026-11-27'],
    [{ type: 'certificate.replaced', at, subject: 'CN=x', expiresAt: since }, 'alert certificate.replaced:CN=x:2026-11-28T04:00:00.000Z'],
    [{ type: 'certificate.refused', at, reason: 'key does not match' }, `alert certificate.refused:${createHash('sha256').update('key does not match').digest('hex').slice(0, 16)}:${Math.floor(at.getTime() / 3_600_000)}`]
  ]
  for (const [event, expected] of cases) {
    const w = outboxWriteFor(event, ctx)
    t.equal(w.to === 'group' ? `group ${w.group} ${w.key}` : `alert ${w.alert.dedupeKey}`, expected, event.type)
  }
  const w = outboxWriteFor(cases[3]![0], ctx)
  t.same(w.to === 'alert' && w.alert.payload, { app: 'data-tracker', status: 401, message: 'Invalid API key' }, 'the app id is replaced by its name')
})

t.test('through the service: one alert per event, repeats collapse, each reaches every channel once', async (t) => {
  const a = await startAlertStack({ deps: { alertOptions: { tickMs: 100, backoffBaseMs: 50, backoffMaxMs: 400 } } })
  t.teardown(() => a.close())
  const events = a.stack.app!.service.events
  const now = new Date()
  const since = new Date(now.getTime() - 5_025_000)
  const appId = a.stack.env.KNACK_APP_ID ?? ''
  const emitted: ServiceEvent[] = [
    { type: 'esb.paused', at: since, since, lastError: 'HTTP 404 No such path' },
    { type: 'esb.paused', at: since, since, lastError: 'HTTP 404 No such path' },
    { type: 'esb.resumed', at: now, pausedSince: since, lastError: 'HTTP 404 No such path' },
    ...Array.from({ length: 3 }, (): ServiceEvent => ({ type: 'knack.credentials_refused', at: now, app: appId, status: 401, message: 'Invalid API key' })),
    { type: 'knack.plan_low', at: now, app: 'data-tracker', remaining: 900, limit: 25_000 },
    { type: 'knack.plan_low', at: now, app: 'data-tracker', remaining: 800, limit: 25_000 },
    { type: 'certificate.replaced', at: now, subject: 'CN=knack311-client', expiresAt: new Date(now.getTime() + 365 * 86_400_000) },
    { type: 'certificate.refused', at: now, reason: 'ESB_KEY does not match ESB_CERT' },
    { type: 'certificate.refused', at: now, reason: 'ESB_KEY does not match ESB_CERT' }
  ]
  for (const e of emitted) events.emit(e)
  await a.stack.app!.service.alerts.flushed()
  await Promise.all([...a.receivers.map((r) => r.waitFor(6)), a.smtp.waitFor(6)])
  await waitOutboxSettled(a.stack)
  const titles = a.webhook.received.map((r) => String(r.body.title))
  t.same(titles, [
    'Sending to the ESB is paused',
    'Sending to the ESB resumed after 1 h 23 min',
    'Knack refused the credentials of data-tracker, signs-markings (HTTP 401)',
    "Knack's daily plan is nearly used up: 900 of 25,000 calls left",
    'The ESB client certificate was replaced',
    'A replacement ESB client certificate was refused'
  ], 'one alert per event, in order; the resumed one says how long')
  for (const r of a.receivers) t.equal(r.received.length, 6, `${r.kind}: six, none twice`)
  t.equal(a.smtp.received.length, 6)
  t.notOk(a.receivers.some((r) => r.texts().some((x) => x.includes(appId))), 'the Knack application id (a credential) is never shown')
  const resumed = a.webhook.received[1]!.body
  t.match(JSON.stringify(resumed.facts), /"name":"Paused for","value":"1 h 23 min"/)
  t.match(JSON.stringify(resumed.facts), /"name":"Last error","value":"HTTP 404 No such path"/)
})
