// The bench's steady-state measure (bench/stats.ts steadyShare): the figure issue 10's limiter
// target is held against, so it must read a client's rate the way Knack's window does.
import t from 'tap'
import { steadyShare } from '../../bench/stats.js'

/** `rate` requests per wave, waves `periodMs` apart, each wave's requests `spreadMs` apart. */
function waves(count: number, rate: number, periodMs: number, spreadMs: number, startMs = 1_000): number[] {
  const out: number[] = []
  for (let w = 0; w < count; w++) for (let k = 0; k < rate; k++) out.push(startMs + w * periodMs + k * spreadMs)
  return out
}

t.test('a client that reuses each slot one window apart uses the whole limit', async (t) => {
  const s = steadyShare(waves(30, 10, 1000, 3), 10)
  t.ok(s, 'measured')
  t.equal(s?.share, 1)
  t.equal(s?.requests, 10 * 27, 'whole windows after the first two, up to the last arrival')
  t.equal(s?.seconds, 27)
})

t.test('slots held 1,025 ms give 1000 / 1025 of the limit, wherever the stretch begins in a burst', async (t) => {
  const s = steadyShare(waves(50, 10, 1025, 10), 10)
  t.equal(Math.round((s?.share ?? 0) * 1e6) / 1e6, Math.round((1000 / 1025) * 1e6) / 1e6)
  // The same flow with one extra request at the end (a stretch boundary inside the next burst) reads the same.
  const more = steadyShare([...waves(50, 10, 1025, 10), 1_000 + 50 * 1025], 10)
  t.equal(Math.round((more?.share ?? 0) * 1e6) / 1e6, Math.round((1000 / 1025) * 1e6) / 1e6)
})

t.test('the start is left out: a slow first wave does not count against the steady rate', async (t) => {
  const steadyOnly = waves(30, 10, 1000, 3, 5_000)
  const withSlowStart = [1_000, 2_500, ...steadyOnly.slice(2)]
  t.equal(steadyShare(withSlowStart, 10)?.share, 1)
  const fromFirst = steadyShare(withSlowStart, 10, 1000, 0)?.share ?? 1
  t.ok(fromFirst < 1, `counting from the first arrival does see the slow start (${fromFirst})`)
})

t.test('order of the arrivals does not matter; too few arrivals give no figure', async (t) => {
  const a = waves(20, 10, 1100, 5)
  t.equal(steadyShare([...a].reverse(), 10)?.share, steadyShare(a, 10)?.share)
  t.equal(steadyShare(waves(3, 10, 1000, 1), 10), undefined, 'two windows skipped leave less than two to measure')
})
