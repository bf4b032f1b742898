import t from 'tap'
import { DEFAULT_QUICK_RETRY, quickRetryDelay } from '../../../src/clients/esb/quick-retry.js'

t.test('waits double, jittered to 50-100 %, and stop at the try count and the budget', async (t) => {
  const p = DEFAULT_QUICK_RETRY
  t.equal(quickRetryDelay(p, 2, 0, () => 0), 25, 'second try: half of 50 ms at the lowest jitter')
  t.equal(quickRetryDelay(p, 2, 0, () => 0.999999), 50)
  t.equal(quickRetryDelay(p, 5, 0, () => 0.999999), 400, 'fifth try: 50 × 2³')
  t.equal(quickRetryDelay(p, 6, 0, () => 0.5), undefined, 'no sixth try')
  t.equal(quickRetryDelay(p, 3, 1450, () => 0.999999), undefined, 'a wait that would pass the budget is not taken')
  const total = [2, 3, 4, 5].reduce((sum, n) => sum + (quickRetryDelay(p, n, 0, () => 0.999999) ?? 0), 0)
  t.ok(total <= 750, `all waits together at most ${total} ms`)
})
