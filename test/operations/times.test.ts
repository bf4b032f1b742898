// Times as operators type them: with an offset, without one (in the first app's zone), a date
// alone, or relative to now; and the filters built from them, each bad field named.
import t from 'tap'
import { readDeliveryQuery, readExportQuery } from '../../src/operations/input.js'
import { parseTime } from '../../src/operations/times.js'

const ctx = { zone: 'America/Chicago', now: new Date('2026-11-28T18:00:00.000Z') }
const iso = (text: string) => parseTime(text, ctx).toISOString()

t.test('ISO 8601 with an offset is an instant', async (t) => {
  t.equal(iso('2026-11-28T14:00:00Z'), '2026-11-28T14:00:00.000Z')
  t.equal(iso('2026-11-28T14:00:00.250z'), '2026-11-28T14:00:00.250Z')
  t.equal(iso('2026-11-28T08:00:00-06:00'), '2026-11-28T14:00:00.000Z')
  t.equal(iso('2026-11-28T19:30+0530'), '2026-11-28T14:00:00.000Z')
  t.equal(iso('2026-11-28T16:00+02'), '2026-11-28T14:00:00.000Z')
})

t.test('without an offset: wall-clock time in the zone, across daylight saving', async (t) => {
  t.equal(iso('2026-11-28T08:00'), '2026-11-28T14:00:00.000Z', 'winter: UTC-6')
  t.equal(iso('2026-07-04T08:00:00'), '2026-07-04T13:00:00.000Z', 'summer: UTC-5')
  t.equal(iso('2026-11-28 08:00'), '2026-11-28T14:00:00.000Z', 'a space instead of T')
  t.equal(iso('2026-11-28'), '2026-11-28T06:00:00.000Z', "a date alone: that day's midnight")
  t.equal(iso('2026-03-08T02:30'), '2026-03-08T08:30:00.000Z', 'in the spring-forward gap: shifted forward, like Temporal')
  t.equal(parseTime('2026-11-28T08:00', { ...ctx, zone: 'UTC' }).toISOString(), '2026-11-28T08:00:00.000Z')
})

t.test('relative: that long before now', async (t) => {
  t.equal(iso('24h'), '2026-11-27T18:00:00.000Z')
  t.equal(iso('7d'), '2026-11-21T18:00:00.000Z')
  t.equal(iso('90m'), '2026-11-28T16:30:00.000Z')
  t.equal(iso(' 30s '), '2026-11-28T17:59:30.000Z')
})

t.test('anything else is refused with a message that shows the text', async (t) => {
  for (const bad of ['yesterday', '24', '2026-13-01', '2026-02-30T10:00', '2026-02-30T10:00Z', '2026-11-28T25:00', '2026-11-28Z', '28/11/2026', '-5h', '2026-11-28T10:00+25:00']) {
    t.throws(() => parseTime(bad, ctx), { message: new RegExp(JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) }, bad)
  }
})

t.test('a query: every bad field named at once; defaults and bounds', async (t) => {
  t.same(readDeliveryQuery({}, ctx), { filter: { app: undefined, status: undefined, srNumber: undefined, recordId: undefined, since: undefined, until: undefined, q: undefined }, limit: 100, before: undefined })
  const q = readDeliveryQuery({ app: ' data-tracker ', status: 'dead', sr: 'SR-1', record: 'r1', since: '2026-11-01', until: '2h', q: ' soap ', limit: '20', before: 7 }, ctx)
  t.same(q.filter, { app: 'data-tracker', status: 'dead', srNumber: 'SR-1', recordId: 'r1', since: new Date('2026-11-01T05:00:00Z'), until: new Date('2026-11-28T16:00:00Z'), q: 'soap' })
  t.same([q.limit, q.before], [20, 7])
  t.same(readDeliveryQuery({ q: '', sr: '  ' }, ctx).filter.q, undefined, 'blank is not given')
  t.throws(() => readDeliveryQuery({ status: 'lost', since: 'soon', until: '2026-01-01', limit: 5000, before: 'x' }, ctx), {
    code: 'INVALID_INPUT',
    details: [
      { field: 'since', message: /not a time/ },
      { field: 'status', message: /must be one of queued, sending/ },
      { field: 'limit', message: /from 1 to 1000/ },
      { field: 'before', message: /whole number/ }
    ]
  })
  t.throws(() => readDeliveryQuery({ since: '2026-01-02', until: '2026-01-01' }, ctx), { code: 'INVALID_INPUT', details: [{ field: 'until', message: 'must be later than since' }] })
  t.throws(() => readDeliveryQuery({ q: 'x'.repeat(201) }, ctx), { code: 'INVALID_INPUT', details: [{ field: 'q', message: /longer than 200/ }] })
  t.same(readExportQuery({ limit: '250000' }, ctx).limit, 250_000, 'an export may ask for any number of rows')
  t.same(readExportQuery({}, ctx).limit, undefined, 'and has every row by default')
})
