// The renderer: every kind reads as a person needs it (title, what to do, the facts, a console
// link per delivery when PUBLIC_URL is set), times in the first app's zone, secrets scrubbed.
import t from 'tap'
import { duration, localTime } from '../../src/alerts/format.js'
import { ALERT_KINDS, readAlertData } from '../../src/alerts/kinds.js'
import { renderAlert, type RenderContext } from '../../src/alerts/render.js'
import { createScrub, REDACTED } from '../../src/alerts/scrub.js'
import { deadDeliveries, sampleAlerts } from './samples.js'

const SECRET = 'sk-live-0123456789abcdef'
const ctx: RenderContext = { timezone: 'America/Chicago', publicUrl: 'https://knack311.example.org', scrub: createScrub([SECRET]) }
const byKind = (secretText = '') => new Map(sampleAlerts(secretText).map((a) => [a.kind, a]))

t.test('every kind the service writes is readable and renders with a title, a summary and a severity', async (t) => {
  const alerts = sampleAlerts()
  t.same(alerts.map((a) => a.kind).sort(), [...ALERT_KINDS].sort(), 'one sample per kind')
  for (const a of alerts) {
    t.ok(readAlertData(a.kind, a.payload), `${a.kind}: its payload matches its schema`)
    const m = renderAlert(a, ctx)
    t.ok(m.title.length > 0 && m.title.length <= 150, `${a.kind}: a one-line title (${m.title})`)
    t.ok(m.summary.length > 20, `${a.kind}: a summary`)
    t.match(m.severity, /^(critical|warning|info|resolved)$/)
    t.equal(m.key, a.dedupeKey)
    t.equal(m.id, a.id)
    t.same(m.data, a.payload, `${a.kind}: the data travels along`)
    t.ok(m.links.some((l) => l.url === 'https://knack311.example.org/console'), `${a.kind}: a link to the console`)
  }
})

t.test('dead deliveries: app, record, SR, reason and a console link for each', async (t) => {
  const m = renderAlert(byKind().get('deliveries.dead')!, ctx)
  t.equal(m.title, '12 deliveries went dead')
  t.equal(m.severity, 'critical')
  t.equal(m.items.length, 12)
  for (const [i, d] of deadDeliveries(12).entries()) {
    const item = m.items[i]!
    t.ok(item.text.includes(d.app) && item.text.includes(d.recordId) && item.text.includes(d.srNumber) && item.text.includes('HTTP 500'), `line ${i} names app, record, SR, reason`)
    t.equal(item.url, `https://knack311.example.org/console/deliveries/${d.id}`)
  }
  t.same(m.facts, [{ name: 'data-tracker', value: '8 dead' }, { name: 'signs-markings', value: '4 dead' }])
  t.ok(m.links.some((l) => l.url === 'https://knack311.example.org/console/deliveries?status=dead'))

  const noUrl = renderAlert(byKind().get('deliveries.dead')!, { ...ctx, publicUrl: undefined })
  t.ok(noUrl.items.every((i) => i.url === undefined), 'without PUBLIC_URL no links')
  t.same(noUrl.links, [])

  const many = renderAlert({ ...byKind().get('deliveries.dead')!, payload: { count: 250, deliveries: deadDeliveries(100), apps: { 'data-tracker': 250 } } }, ctx)
  t.equal(many.title, '250 deliveries went dead')
  t.equal(many.moreItems, 150, 'those not listed are counted')
})

t.test('paused and resumed: since when, the last error, for how long', async (t) => {
  const paused = renderAlert(byKind().get('esb.paused')!, ctx)
  t.equal(paused.title, 'Sending to the ESB is paused')
  t.same(paused.facts, [
    { name: 'Paused since', value: '2026-11-28 07:05 CST' },
    { name: 'Last error', value: 'HTTP 503 Service Unavailable' }
  ])
  const resumed = renderAlert(byKind().get('esb.resumed')!, ctx)
  t.equal(resumed.title, 'Sending to the ESB resumed after 1 h 23 min')
  t.equal(resumed.severity, 'resolved')
  t.same(resumed.facts.find((f) => f.name === 'Paused for'), { name: 'Paused for', value: '1 h 23 min' })
})

t.test('the other kinds say what happened and what to do', async (t) => {
  const k = byKind()
  t.equal(renderAlert(k.get('knack.credentials_refused')!, ctx).title, 'Knack refused the credentials of data-tracker (HTTP 401)')
  t.equal(renderAlert(k.get('knack.plan_low')!, ctx).title, "Knack's daily plan is nearly used up: 1,500 of 25,000 calls left")
  const expiring = renderAlert(k.get('certificate.expiring')!, ctx)
  t.equal(expiring.title, 'The ESB client certificate expires in 7 days')
  t.equal(expiring.severity, 'warning')
  const lastDay = renderAlert({ ...k.get('certificate.expiring')!, payload: { ...k.get('certificate.expiring')!.payload, daysLeft: 0.5, threshold: 1 } }, ctx)
  t.equal(lastDay.severity, 'critical', 'the last day is critical')
  const expired = renderAlert({ ...k.get('certificate.expiring')!, payload: { ...k.get('certificate.expiring')!.payload, daysLeft: -0.1, threshold: 0 } }, ctx)
  t.equal(expired.title, 'The ESB client certificate has expired')
  t.match(renderAlert(k.get('certificate.refused')!, ctx).summary, /previous certificate stays in use/)
  const stuck = renderAlert(k.get('delivery.stuck')!, ctx)
  t.equal(stuck.title, 'A delivery has waited over 1 h')
  t.equal(stuck.items[0]?.url, 'https://knack311.example.org/console/deliveries/77')
  t.equal(renderAlert(k.get('delivery.unstuck')!, ctx).severity, 'resolved')
  const digest = renderAlert(k.get('digest')!, ctx)
  t.equal(digest.title, 'knack311 daily summary for 2026-11-28')
  t.same(digest.facts.map((f) => `${f.name}=${f.value}`), ['Sent=120', 'Skipped=3', 'Dead=1', 'Still pending=4', 'ESB pauses=1'])
  t.match(digest.items[0]?.text, /^data-tracker: 120 sent, 3 skipped, 1 dead, 4 still pending, 1 waiting over 1 h; oldest waiting since 2026-11-28 05:05 CST \(delivery 88\)$/)
  t.equal(digest.items[1]?.text, 'signs-markings: 0 sent, 0 skipped, 0 dead, 0 still pending')
  t.match(digest.items[2]?.text, /^ESB paused from .* to .* \(1 h 6 min\): HTTP 404 No such path/)
})

t.test('a secret in text another system wrote is redacted, everywhere in the message', async (t) => {
  for (const a of sampleAlerts(`user:${SECRET}@host`)) {
    const text = JSON.stringify(renderAlert(a, ctx))
    t.notOk(text.includes(SECRET), `${a.kind}: the secret is gone`)
  }
  t.ok(JSON.stringify(renderAlert(byKind(SECRET).get('esb.paused')!, ctx)).includes(REDACTED), 'and marked as redacted')
})

t.test('an alert of a kind this version does not know still renders', async (t) => {
  const m = renderAlert({ id: 9, kind: 'from.the.future', dedupeKey: 'k', payload: { x: 1 }, createdAt: new Date(0) }, ctx)
  t.equal(m.title, 'knack311 alert: from.the.future')
  t.same(m.data, { x: 1 })
})

t.test('durations and local times', async (t) => {
  t.equal(duration(0), '0 s')
  t.equal(duration(45_000), '45 s')
  t.equal(duration(5_025_000), '1 h 23 min')
  t.equal(duration(3_600_000), '1 h')
  t.equal(duration(90_061_000), '1 d 1 h')
  t.equal(localTime('2026-07-04T12:00:00.000Z', 'America/Chicago'), '2026-07-04 07:00 CDT')
})
