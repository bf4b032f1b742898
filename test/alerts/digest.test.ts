// The daily summary at DIGEST_AT in the first app's zone, driven by an injected clock: per app the
// day's sent, skipped and dead, what is still pending (and stuck), the oldest, the day's ESB
// pauses — once per day, whatever the number of ticks.
import t from 'tap'
import type { DeliveryStatus, NewDelivery } from '../../src/ledger/types.js'
import { digestDue } from '../../src/alerts/digest.js'
import { startAlertStack, waitOutboxSettled } from '../helpers/alert-stack.js'
import { waitFor } from '../helpers/stack.js'

const FAST = { tickMs: 100, backoffBaseMs: 50, backoffMaxMs: 400 }
let n = 0
const row = (app: string): NewDelivery => {
  n++
  return { app, recordId: `r${n}`, srNumber: `SR-${n}`, atdActivityId: n, contentHash: `h${n}`, source: 'webhook', record: { id: `r${n}` } }
}

t.test('digestDue: from DIGEST_AT on, for the local date, covering the day before; DST-aware', async (t) => {
  const at = { hour: 7, minute: 0 }
  t.equal(digestDue(new Date('2026-11-28T12:59:59Z'), 'America/Chicago', at), null, '06:59:59 CST: not yet')
  t.same(digestDue(new Date('2026-11-28T13:00:00Z'), 'America/Chicago', at), {
    date: '2026-11-28',
    from: new Date('2026-11-27T13:00:00Z'),
    to: new Date('2026-11-28T13:00:00Z')
  })
  t.equal(digestDue(new Date('2026-11-29T05:59:00Z'), 'America/Chicago', at)?.date, '2026-11-28', 'still due late that evening (23:59 CST)')
  const spring = digestDue(new Date('2026-03-08T13:00:00Z'), 'America/Chicago', at)
  t.same(spring && [spring.from.toISOString(), spring.to.toISOString()], ['2026-03-07T13:00:00.000Z', '2026-03-08T12:00:00.000Z'], 'the spring-forward day is 23 hours')
})

t.test('the digest at 07:00 with the right counts, once', async (t) => {
  let now = Date.parse('2026-11-27T12:00:00Z')
  const clock = () => new Date(now)
  const a = await startAlertStack({ env: { DIGEST_AT: '07:00', ALERT_STUCK_AFTER: '1h' }, startWorker: false, deps: { clock, alertOptions: FAST } })
  t.teardown(() => a.close())
  const { ledger } = a.stack.deps!
  const service = a.stack.app!.service

  const finished = async (app: string, status: DeliveryStatus, iso: string) => {
    const { delivery } = await ledger.enqueue(row(app), 'once', new Date(Date.parse(iso) - 60_000))
    await ledger.claim('test', 1000, 60_000, new Date(Date.parse(iso) - 60_000))
    t.ok(await ledger.finish(delivery.id, { owner: 'test', status, attempts: 1, now: new Date(iso) }), 'finished by its lease holder')
  }
  await finished('data-tracker', 'sent', '2026-11-27T12:30:00Z') // before the window
  for (const h of ['15', '18', '23']) await finished('data-tracker', 'sent', `2026-11-27T${h}:00:00Z`)
  await finished('data-tracker', 'skipped', '2026-11-28T01:00:00Z')
  await finished('data-tracker', 'dead', '2026-11-28T02:00:00Z')
  await finished('data-tracker', 'dead', '2026-11-28T09:00:00Z')
  await finished('signs-markings', 'sent', '2026-11-28T11:00:00Z')
  const oldest = (await ledger.enqueue(row('data-tracker'), 'once', new Date('2026-11-28T10:00:00Z'))).delivery
  await ledger.enqueue(row('data-tracker'), 'once', new Date('2026-11-28T12:45:00Z'))

  // Pauses as the ESB module announces them: one inside the day, one entirely before it.
  const pause = async (since: string, resumed: string) => {
    now = Date.parse(since)
    service.events.emit({ type: 'esb.paused', at: new Date(since), since: new Date(since), lastError: 'HTTP 404 No such path' })
    await service.alerts.flushed()
    now = Date.parse(resumed)
    service.events.emit({ type: 'esb.resumed', at: new Date(resumed), pausedSince: new Date(since), lastError: 'HTTP 404 No such path' })
    await service.alerts.flushed()
  }
  await pause('2026-11-27T10:00:00Z', '2026-11-27T11:00:00Z')
  await pause('2026-11-27T20:00:00Z', '2026-11-27T20:45:00Z')

  now = Date.parse('2026-11-28T12:59:00Z') // 06:59 in Chicago
  await service.alerts.tick()
  t.notOk(await ledger.alerts.has('digest:2026-11-28'), 'no summary before 07:00')

  now = Date.parse('2026-11-28T13:00:30Z')
  await service.alerts.tick()
  await service.alerts.tick()
  await waitFor(() => a.webhook.received.some((r) => r.body.key === 'digest:2026-11-28'), 20_000, 'the digest at the webhook')
  await waitOutboxSettled(a.stack)
  // The clock passed 07:00 on the 27th while the pauses above were set up: that day's summary went
  // out then (a missed summary is still sent later the same day). The 28th's is the one to read.
  const digests = a.webhook.received.filter((r) => r.body.key === 'digest:2026-11-28')
  t.equal(digests.length, 1, 'one summary for the 28th')
  const data = digests[0]!.body.data as {
    date: string
    apps: Array<{ app: string; sent: number; skipped: number; dead: number; pending: number; stuck: number; oldest: { id: number } | null }>
    pauses: Array<{ since: string; resumedAt: string | null }>
  }
  t.equal(data.date, '2026-11-28')
  t.same(
    data.apps.map((x) => [x.app, x.sent, x.skipped, x.dead, x.pending, x.stuck, x.oldest?.id ?? null]),
    [
      ['data-tracker', 3, 1, 2, 2, 1, oldest.id],
      ['signs-markings', 1, 0, 0, 0, 0, null]
    ],
    'per app: sent, skipped, dead in the day; pending and stuck now; the oldest'
  )
  t.same(data.pauses, [{ since: '2026-11-27T20:00:00.000Z', resumedAt: '2026-11-27T20:45:00.000Z', lastError: 'HTTP 404 No such path' }], 'the day\'s pause only')
  t.equal(digests[0]!.body.title, 'knack311 daily summary for 2026-11-28')
  for (const r of a.receivers) t.equal(r.received.filter((x) => JSON.stringify(x.body).includes('daily summary for 2026-11-28')).length, 1, `${r.kind}: one summary`)
  const mail = a.smtp.received.find((m) => m.parsed.subject?.includes('daily summary for 2026-11-28'))
  t.equal(mail?.parsed.subject, '[knack311] Warning: knack311 daily summary for 2026-11-28', 'a day with dead deliveries is a warning')
  t.match(mail?.parsed.text, /data-tracker: 3 sent, 1 skipped, 2 dead, 2 still pending, 1 waiting over 1 h; oldest waiting since 2026-11-28 04:00 CST/)
  t.match(mail?.parsed.text, /ESB paused from 2026-11-27 14:00 CST to 2026-11-27 14:45 CST \(45 min\)/)

  now = Date.parse('2026-11-28T22:00:00Z')
  await service.alerts.tick()
  t.equal((await ledger.alerts.recent(100)).filter((x) => x.dedupeKey === 'digest:2026-11-28').length, 1, 'later that day: still one')
  now = Date.parse('2026-11-29T13:00:05Z')
  await service.alerts.tick()
  t.ok(await ledger.alerts.has('digest:2026-11-29'), 'the next day has its own')
})
