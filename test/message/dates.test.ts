import { readFileSync } from 'node:fs'
import t from 'tap'
import { formatInstant, knackDateToIso, wallClockToInstant } from '../../src/message/dates.js'
import { knackDateRaw } from './records.js'

// What pytz localize(is_dst=False), the legacy's reading, gives on every DST-change day of
// 2019-2030 (made by test/fixtures/pytz/make-wall-clock-readings.py).
interface PytzReading {
  zone: string
  wall: string
  legacy: string
}
const PYTZ = JSON.parse(readFileSync(new URL('../fixtures/pytz/wall-clock-readings.json', import.meta.url), 'utf8')) as { readings: PytzReading[] }

const TZ = 'America/Chicago'

t.test('formatInstant gives ISO 8601 with the zone offset at that instant, seconds precision (activity dates with a real offset)', async (t) => {
  t.equal(formatInstant(new Date('2026-11-28T23:23:30.999Z'), TZ), '2026-11-28T17:23:30-06:00')
  t.equal(formatInstant(new Date('2026-07-04T17:00:00Z'), TZ), '2026-07-04T12:00:00-05:00')
  t.equal(formatInstant(new Date('2026-07-04T17:00:00Z'), 'UTC'), '2026-07-04T17:00:00+00:00')
  t.equal(formatInstant(new Date('2026-07-04T17:00:00Z'), 'Asia/Kolkata'), '2026-07-04T22:30:00+05:30')
  t.equal(formatInstant(new Date('2019-01-01T05:59:59Z'), TZ), '2018-12-31T23:59:59-06:00', 'midnight and year boundary')
  t.throws(() => formatInstant(new Date(NaN), TZ), RangeError)
})

t.test('formatInstant across both DST changes keeps the right offset of the instant', async (t) => {
  // Spring forward 2019-03-10 at 02:00 CST → 03:00 CDT (08:00Z).
  t.equal(formatInstant(new Date('2019-03-10T07:59:59Z'), TZ), '2019-03-10T01:59:59-06:00')
  t.equal(formatInstant(new Date('2019-03-10T08:00:00Z'), TZ), '2019-03-10T03:00:00-05:00')
  // Fall back 2019-11-03 at 02:00 CDT → 01:00 CST (07:00Z): 01:30 happens twice.
  t.equal(formatInstant(new Date('2019-11-03T06:30:00Z'), TZ), '2019-11-03T01:30:00-05:00')
  t.equal(formatInstant(new Date('2019-11-03T07:30:00Z'), TZ), '2019-11-03T01:30:00-06:00')
})

t.test('Knack raw date object: local wall clock labelled UTC is reinterpreted in the app zone', async (t) => {
  const raw = {
    date: '09/11/2019',
    date_formatted: '09/11/2019',
    hours: '04',
    minutes: '14',
    am_pm: 'PM',
    timestamp: '09/11/2019 04:14 pm',
    unix_timestamp: 1568218440000,
    iso_timestamp: '2019-09-11T16:14:00.000Z',
    time: 974
  }
  t.equal(knackDateToIso(raw, TZ), '2019-09-11T16:14:00-05:00')
  const { iso_timestamp: _i, ...noIso } = raw
  t.equal(knackDateToIso(noIso, TZ), '2019-09-11T16:14:00-05:00', 'from unix_timestamp')
  const { unix_timestamp: _u, ...parts } = noIso
  t.equal(knackDateToIso(parts, TZ), '2019-09-11T16:14:00-05:00', 'from date + hours/minutes/am_pm')
  t.equal(knackDateToIso({ timestamp: raw.timestamp }, TZ), '2019-09-11T16:14:00-05:00', 'from timestamp')
  t.equal(knackDateToIso({ date: '01/15/2020', hours: '12', minutes: '05', am_pm: 'AM' }, TZ), '2020-01-15T00:05:00-06:00', '12 AM is midnight')
  t.equal(knackDateToIso({ date: '01/15/2020', hours: '12', minutes: '05', am_pm: 'PM' }, TZ), '2020-01-15T12:05:00-06:00', '12 PM is noon')
  t.equal(knackDateToIso({ date: '01/15/2020' }, TZ), '2020-01-15T00:00:00-06:00', 'date only is midnight')
  t.equal(knackDateToIso(1568218440000, TZ), '2019-09-11T16:14:00-05:00', 'a bare number is a unix_timestamp')
})

t.test('strings: ISO with an offset is an instant; the formatted value is wall clock', async (t) => {
  t.equal(knackDateToIso('2019-09-11T21:14:00Z', TZ), '2019-09-11T16:14:00-05:00')
  t.equal(knackDateToIso('2019-09-11T16:14:00-05:00', TZ), '2019-09-11T16:14:00-05:00')
  t.equal(knackDateToIso('2019-09-11T17:14:00-0400', TZ), '2019-09-11T16:14:00-05:00')
  t.equal(knackDateToIso('09/11/2019 04:14pm', TZ), '2019-09-11T16:14:00-05:00')
  t.equal(knackDateToIso('09/11/2019 04:14 PM', TZ), '2019-09-11T16:14:00-05:00')
  t.equal(knackDateToIso('2019-09-11T16:14', TZ), '2019-09-11T16:14:00-05:00', 'ISO without offset is wall clock')
})

t.test('blank values are null; nonsense throws RangeError', async (t) => {
  t.equal(knackDateToIso(null, TZ), null)
  t.equal(knackDateToIso(undefined, TZ), null)
  t.equal(knackDateToIso('  ', TZ), null)
  t.equal(knackDateToIso({}, TZ), null)
  for (const bad of ['soon', '13/45/2019', '02/30/2019 01:00pm', '09/11/2019 13:00pm', '2019-09-11T25:00Z', true, [], { date: 'x' }, { iso_timestamp: 'nope' }]) {
    t.throws(() => knackDateToIso(bad, TZ), RangeError, JSON.stringify(bad))
  }
})

t.test('activity date in the missing hour (2019-03-10 02:00-03:00) is read as standard time, as the legacy sent it', async (t) => {
  // pytz localize(is_dst=False) gives 02:30-06:00 in the gap: the instant 08:30Z, which the
  // zone shows as 03:30-05:00. The ESB has always received the time as typed with -06:00.
  const w = { year: 2019, month: 3, day: 10, hour: 2, minute: 30 }
  t.equal(knackDateToIso(knackDateRaw(w), TZ), '2019-03-10T02:30:00-06:00')
  t.equal(Date.parse('2019-03-10T02:30:00-06:00'), Date.parse('2019-03-10T03:30:00-05:00'), 'the same instant as the shifted-forward reading')
  t.equal(wallClockToInstant({ ...w, second: 0 }, TZ).toISOString(), '2019-03-10T08:30:00.000Z')
  t.equal(knackDateToIso(knackDateRaw({ ...w, hour: 2, minute: 0 }), TZ), '2019-03-10T02:00:00-06:00', 'the gap opens at 02:00')
  t.equal(knackDateToIso(knackDateRaw({ ...w, hour: 1, minute: 59 }), TZ), '2019-03-10T01:59:00-06:00')
  t.equal(knackDateToIso(knackDateRaw({ ...w, hour: 3, minute: 0 }), TZ), '2019-03-10T03:00:00-05:00')
  t.equal(knackDateToIso('2019-03-10T02:30:00', TZ), '2019-03-10T02:30:00-06:00', 'ISO without offset, the same rule')
  t.equal(knackDateToIso('2019-03-10T08:30:00Z', TZ), '2019-03-10T03:30:00-05:00', 'a real instant is shown as the zone shows it')
})

t.test('activity date in the repeated hour (2019-11-03 01:00-02:00) takes the later, standard-time reading', async (t) => {
  const w = { year: 2019, month: 11, day: 3, hour: 1, minute: 30 }
  t.equal(knackDateToIso(knackDateRaw(w), TZ), '2019-11-03T01:30:00-06:00')
  t.equal(wallClockToInstant({ ...w, second: 0 }, TZ).toISOString(), '2019-11-03T07:30:00.000Z')
  t.equal(knackDateToIso(knackDateRaw({ ...w, hour: 0, minute: 59 }), TZ), '2019-11-03T00:59:00-05:00')
  t.equal(knackDateToIso(knackDateRaw({ ...w, hour: 2, minute: 0 }), TZ), '2019-11-03T02:00:00-06:00')
})

t.test('the fall-back hour of 2024 (first Sunday of November) is standard time, -06:00, as pytz is_dst=False reads it', async (t) => {
  const day = { year: 2024, month: 11, day: 3 }
  // Every source of a Knack date (raw object, its parts, unix and iso timestamps, the formatted string) agrees.
  const raw = knackDateRaw({ ...day, hour: 1, minute: 30 })
  const { iso_timestamp: _i, ...unixFirst } = raw
  const { unix_timestamp: _u, ...partsFirst } = unixFirst
  for (const [label, value] of [
    ['raw object', raw],
    ['unix_timestamp', unixFirst],
    ['date + hours/minutes/am_pm', partsFirst],
    ['timestamp', { timestamp: raw.timestamp }],
    ['formatted string', '11/03/2024 01:30am'],
    ['ISO without offset', '2024-11-03T01:30']
  ] as const) {
    t.equal(knackDateToIso(value, TZ), '2024-11-03T01:30:00-06:00', `01:30 from the ${label}`)
  }
  t.equal(knackDateToIso(knackDateRaw({ ...day, hour: 0, minute: 59 }), TZ), '2024-11-03T00:59:00-05:00', '00:59, before the hour: daylight time')
  t.equal(knackDateToIso(knackDateRaw({ ...day, hour: 1, minute: 0 }), TZ), '2024-11-03T01:00:00-06:00', '01:00 opens the repeated hour')
  t.equal(knackDateToIso(knackDateRaw({ ...day, hour: 1, minute: 59 }), TZ), '2024-11-03T01:59:00-06:00', '01:59 closes it')
  t.equal(knackDateToIso(knackDateRaw({ ...day, hour: 2, minute: 0 }), TZ), '2024-11-03T02:00:00-06:00', '02:00, after the hour: standard time')
  t.equal(wallClockToInstant({ ...day, hour: 1, minute: 30, second: 0 }, TZ).toISOString(), '2024-11-03T07:30:00.000Z', 'the later of the two instants')
  t.equal(knackDateToIso('2024-11-03T06:30:00Z', TZ), '2024-11-03T01:30:00-05:00', 'a real instant in the first 01:30 keeps its daylight offset')
  t.equal(knackDateToIso(knackDateRaw({ year: 2024, month: 10, day: 27, hour: 1, minute: 30 }), TZ), '2024-10-27T01:30:00-05:00', 'a week earlier: daylight time')
})

t.test('wall-clock readings in other zones follow the same rule', async (t) => {
  // Europe/Berlin falls back at 03:00 CEST to 02:00 CET (2024-10-27): 02:30 repeats.
  t.equal(knackDateToIso('2024-10-27T02:30', 'Europe/Berlin'), '2024-10-27T02:30:00+01:00')
  // It springs forward at 02:00 CET to 03:00 CEST (2024-03-31): 02:30 does not exist.
  t.equal(knackDateToIso('2024-03-31T02:30', 'Europe/Berlin'), '2024-03-31T02:30:00+01:00')
  t.equal(knackDateToIso('2024-07-01T09:15', 'UTC'), '2024-07-01T09:15:00+00:00')
})

t.test('every wall-clock time around the DST changes of 2019-2030 is written exactly as pytz is_dst=False writes it', async (t) => {
  const readings = PYTZ.readings
  t.ok(readings.length > 1000, `${readings.length} readings`)
  const zones = new Set(readings.map((r) => r.zone))
  t.same([...zones].sort(), ['America/Chicago', 'Europe/Berlin'])
  // The fixture holds both kinds of awkward hour, or it would prove nothing about them.
  t.ok(readings.some((r) => r.wall === '2024-11-03T01:30:00' && r.legacy === '2024-11-03T01:30:00-06:00'), 'holds the repeated hour')
  t.ok(readings.some((r) => r.wall === '2024-03-10T02:30:00' && r.legacy === '2024-03-10T02:30:00-06:00'), 'holds the gap')
  const wrong = readings
    .map((r) => ({ ...r, ours: knackDateToIso(r.wall, r.zone) }))
    .filter((r) => r.ours !== r.legacy)
  t.same(wrong, [], 'no reading differs')
})
