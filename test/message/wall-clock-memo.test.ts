// wallClockAt answers from a memo of each zone's offset per 15-minute bucket (src/message/dates.ts);
// these check it against Intl itself, asked fresh, where a memo could go wrong: around DST
// changes in both directions, at zones with odd offsets, at historical local mean time (offsets
// in seconds, transitions off the quarter hour), the same bucket asked twice, and far more
// distinct buckets than the memo keeps.
import fc from 'fast-check'
import t from 'tap'
import { wallClockAt, type WallClock } from '../../src/message/dates.js'

const ZONES = ['America/Chicago', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/St_Johns', 'Pacific/Chatham', 'UTC']

const reference = new Map<string, Intl.DateTimeFormat>()
function intl(ms: number, timeZone: string): WallClock {
  let f = reference.get(timeZone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    reference.set(timeZone, f)
  }
  const parts: Record<string, number> = {}
  for (const p of f.formatToParts(ms)) if (p.type !== 'literal') parts[p.type] = Number(p.value)
  return { year: parts.year ?? NaN, month: parts.month ?? NaN, day: parts.day ?? NaN, hour: parts.hour ?? NaN, minute: parts.minute ?? NaN, second: parts.second ?? NaN }
}

t.test('every second around Chicago\'s DST changes of 2024, both ways, matches Intl (asked twice: memo hit and miss)', async (t) => {
  let mismatches = 0
  for (const change of ['2024-03-10T08:00:00Z', '2024-11-03T07:00:00Z']) {
    const at = Date.parse(change)
    for (let round = 0; round < 2; round++) {
      for (let s = -3600; s <= 3600; s += 7) {
        const ms = at + s * 1000 + 250
        if (JSON.stringify(wallClockAt(ms, 'America/Chicago')) !== JSON.stringify(intl(ms, 'America/Chicago'))) mismatches++
      }
    }
  }
  t.equal(mismatches, 0)
  // The two readings of the repeated 01:30 on 2024-11-03 stay apart.
  t.same(wallClockAt(Date.parse('2024-11-03T06:30:00Z'), 'America/Chicago'), { year: 2024, month: 11, day: 3, hour: 1, minute: 30, second: 0 })
  t.same(wallClockAt(Date.parse('2024-11-03T07:30:00Z'), 'America/Chicago'), { year: 2024, month: 11, day: 3, hour: 1, minute: 30, second: 0 })
  t.same(wallClockAt(Date.parse('2024-11-03T07:00:00Z') - 1, 'America/Chicago'), { year: 2024, month: 11, day: 3, hour: 1, minute: 59, second: 59 })
})

t.test('historical local mean time (offsets with seconds, a change off the quarter hour) matches Intl', async (t) => {
  // Chicago kept local mean time (-5:50:36) until noon on 1883-11-18.
  const change = Date.parse('1883-11-18T17:50:36Z')
  let mismatches = 0
  for (let s = -1800; s <= 1800; s += 1) {
    const ms = change + s * 1000
    if (JSON.stringify(wallClockAt(ms, 'America/Chicago')) !== JSON.stringify(intl(ms, 'America/Chicago'))) mismatches++
  }
  t.equal(mismatches, 0)
})

t.test('any instant from 1900 to 2100 in zones with odd offsets and DST rules matches Intl', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: Date.parse('1900-01-01T00:00:00Z'), max: Date.parse('2100-01-01T00:00:00Z') }), fc.constantFrom(...ZONES), (ms, zone) => {
      return JSON.stringify(wallClockAt(ms, zone)) === JSON.stringify(intl(ms, zone))
    }),
    { numRuns: 3000 }
  )
  t.pass('3,000 instants matched')
})

t.test('more distinct buckets than the memo keeps still give Intl\'s answers', async (t) => {
  let mismatches = 0
  const start = Date.parse('2030-01-01T00:00:00Z')
  for (let i = 0; i < 10_000; i++) {
    const ms = start + i * 15 * 60_000 + 61_000
    if (JSON.stringify(wallClockAt(ms, 'Europe/London')) !== JSON.stringify(intl(ms, 'Europe/London'))) mismatches++
  }
  t.equal(mismatches, 0)
  t.throws(() => wallClockAt(NaN, 'Europe/London'), RangeError)
})
