import t from 'tap'
import { endpointRetryAt, nextRetry } from '../../src/worker/retry.js'

const now = new Date('2026-01-01T00:00:00Z')
const schedule = [30_000, 120_000, 600_000]

t.test('each failed attempt waits the next step of the schedule', async (t) => {
  t.same(nextRetry(schedule, 1, now), { kind: 'retry', at: new Date('2026-01-01T00:00:30Z') })
  t.same(nextRetry(schedule, 2, now), { kind: 'retry', at: new Date('2026-01-01T00:02:00Z') })
  t.same(nextRetry(schedule, 3, now), { kind: 'retry', at: new Date('2026-01-01T00:10:00Z') })
})

t.test('after the last step the delivery gives up', async (t) => {
  t.same(nextRetry(schedule, 4, now), { kind: 'give_up' })
  t.same(nextRetry(schedule, 100, now), { kind: 'give_up' })
  t.same(nextRetry([], 1, now), { kind: 'give_up' }, 'an empty schedule never retries')
})

t.test('the wait counts from the given time, not the wall clock', async (t) => {
  const later = new Date('2030-06-01T12:00:00Z')
  const d = nextRetry([5], 1, later)
  t.equal(d.kind, 'retry')
  if (d.kind === 'retry') t.equal(d.at.getTime(), later.getTime() + 5)
})

t.test('endpointRetryAt: soon, doubling per consecutive endpoint failure, capped, jittered to 50-100 %', async (t) => {
  const now = new Date('2026-07-15T14:00:00Z')
  const wait = (n: number, random: number, cap = 2000) => endpointRetryAt(now, n, cap, () => random).getTime() - now.getTime()
  t.equal(wait(1, 0.999999), 250)
  t.equal(wait(1, 0), 125, 'half at the lowest jitter')
  t.equal(wait(2, 0.999999), 500)
  t.equal(wait(4, 0.999999), 2000)
  t.equal(wait(40, 0.999999), 2000, 'never past the cap')
  t.equal(wait(3, 0.999999, 300), 300, 'a smaller cap (ESB_PROBE_EVERY) wins')
})
