import t from 'tap'
import { MAX_DURATION_MS, parseDuration, parseDurationList, parseSpan } from '../../src/config/duration.js'

t.test('each unit converts to milliseconds', async (t) => {
  t.equal(parseDuration('250ms'), 250)
  t.equal(parseDuration('30s'), 30_000)
  t.equal(parseDuration('2m'), 120_000)
  t.equal(parseDuration('1h'), 3_600_000)
  t.equal(parseDuration('2d'), 172_800_000)
  t.equal(parseDuration(' 5s '), 5_000, 'surrounding white space is ignored')
  t.equal(parseDuration('0s'), 0)
})

t.test('anything else is refused with a plain Error', async (t) => {
  for (const bad of ['', '30', 'abc', '1w', '1.5h', '1.5d', '-1s', '1 s', 's', '30S', '1h30m', '0x10s']) {
    t.throws(() => parseDuration(bad), { message: `${JSON.stringify(bad)} is not a duration (use ms, s, m, h, d)` }, bad)
  }
  t.throws(() => parseDuration('600h'), /longer than the 24 days/)
  t.equal(parseDuration(`${MAX_DURATION_MS}ms`), MAX_DURATION_MS)
})

t.test('lists', async (t) => {
  t.same(parseDurationList('30s,2m,10m'), [30_000, 120_000, 600_000])
  t.same(parseDurationList('1h'), [3_600_000])
  t.same(parseDurationList('30s, 2m'), [30_000, 120_000], 'spaces after commas are fine')
  t.throws(() => parseDurationList(''), /is empty/)
  t.throws(() => parseDurationList('30s,,1h'), { message: 'item 2: "" is not a duration (use ms, s, m, h, d)' })
  t.throws(() => parseDurationList('30s,0m'), { message: 'item 2: "0m" must be longer than zero' })
  t.throws(() => parseDurationList('0s'), { message: '"0s" must be longer than zero' })
})

t.test('spans are compared, not waited for: no timer cap', async (t) => {
  t.equal(parseSpan('90d'), 90 * 86_400_000)
  t.equal(parseSpan('400d'), 400 * 86_400_000, 'longer than a timer can hold')
  t.equal(parseSpan('36h'), 36 * 3_600_000)
  t.throws(() => parseSpan('90'), /is not a duration/)
  t.throws(() => parseDuration('90d'), /longer than the 24 days/, 'a timer duration keeps its cap')
})
