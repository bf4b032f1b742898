import t from 'tap'
import { publicationTimestamp } from '../../src/message/timestamp.js'

t.test('UTC with microseconds and +00:00, as arrow.now().isoformat() wrote it', async (t) => {
  t.equal(publicationTimestamp(new Date('2024-01-15T18:04:05.123Z')), '2024-01-15T18:04:05.123000+00:00')
  t.equal(publicationTimestamp(new Date('2024-07-04T15:30:45.654Z')), '2024-07-04T15:30:45.654000+00:00')
  t.equal(publicationTimestamp(new Date('2024-01-15T18:04:05.001Z')), '2024-01-15T18:04:05.001000+00:00', 'leading zeros kept')
  t.equal(publicationTimestamp(new Date('2024-01-15T18:04:05.100Z')), '2024-01-15T18:04:05.100000+00:00', 'trailing zeros kept')
  t.equal(publicationTimestamp(new Date('2024-01-15T18:04:05.999Z')), '2024-01-15T18:04:05.999000+00:00')
})

t.test('a whole second has no fraction at all, as Python writes it', async (t) => {
  t.equal(publicationTimestamp(new Date('2024-01-15T18:04:05.000Z')), '2024-01-15T18:04:05+00:00')
  t.equal(publicationTimestamp(new Date('2024-01-15T00:00:00Z')), '2024-01-15T00:00:00+00:00')
  t.equal(publicationTimestamp(new Date(0)), '1970-01-01T00:00:00+00:00', 'the epoch')
})

t.test('UTC whatever the app zone or the wall clock: the offset is never local', async (t) => {
  // An instant in Chicago's repeated fall-back hour and one just after spring-forward.
  t.equal(publicationTimestamp(new Date('2024-11-03T06:30:00.250Z')), '2024-11-03T06:30:00.250000+00:00')
  t.equal(publicationTimestamp(new Date('2024-11-03T07:30:00.250Z')), '2024-11-03T07:30:00.250000+00:00')
  t.equal(publicationTimestamp(new Date('2024-03-10T08:00:00Z')), '2024-03-10T08:00:00+00:00')
  t.equal(publicationTimestamp(new Date('2024-11-28T23:23:30-06:00')), '2024-11-29T05:23:30+00:00', 'the date is the UTC date')
})

t.test('dates far from the epoch, both ways', async (t) => {
  t.equal(publicationTimestamp(new Date('9999-12-31T23:59:59.999Z')), '9999-12-31T23:59:59.999000+00:00', 'the last instant Python can write')
  t.equal(publicationTimestamp(new Date('0001-01-01T00:00:00Z')), '0001-01-01T00:00:00+00:00', 'the first, years padded to four digits')
  t.equal(publicationTimestamp(new Date('0999-03-04T05:06:07.080Z')), '0999-03-04T05:06:07.080000+00:00')
  t.equal(publicationTimestamp(new Date('1969-12-31T23:59:59.999Z')), '1969-12-31T23:59:59.999000+00:00', 'before the epoch (negative ms)')
  t.equal(publicationTimestamp(new Date('1901-12-13T20:45:52.001Z')), '1901-12-13T20:45:52.001000+00:00', 'before the 32-bit time_t range')
  t.equal(publicationTimestamp(new Date('2038-01-19T03:14:08.500Z')), '2038-01-19T03:14:08.500000+00:00', 'after it')
  t.equal(publicationTimestamp(new Date('2400-02-29T12:00:00Z')), '2400-02-29T12:00:00+00:00', 'a leap day four centuries on')
})

t.test('what Python could not have written is refused', async (t) => {
  t.throws(() => publicationTimestamp(new Date(NaN)), RangeError, 'an invalid date')
  t.throws(() => publicationTimestamp(new Date('+010000-01-01T00:00:00Z')), RangeError, 'year 10000')
  t.throws(() => publicationTimestamp(new Date('0000-12-31T23:59:59.999Z')), RangeError, 'year 0')
})
