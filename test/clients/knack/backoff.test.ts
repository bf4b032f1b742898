import t from 'tap'
import { backoffDelay, rateLimitWaitMs, DEFAULT_RATE_LIMIT_WAIT_MS, MAX_RATE_LIMIT_WAIT_MS } from '../../../src/clients/knack/backoff.js'
import { knackMessages } from '../../../src/clients/knack/error-messages.js'

t.test('backoff doubles from the base, is capped, and is jittered within [half, full]', async (t) => {
  const policy = { baseMs: 200, capMs: 5000 }
  t.equal(backoffDelay(1, policy, () => 0), 100)
  t.equal(backoffDelay(1, policy, () => 1), 200)
  t.equal(backoffDelay(2, policy, () => 1), 400)
  t.equal(backoffDelay(3, policy, () => 0.5), 600)
  t.equal(backoffDelay(10, policy, () => 1), 5000, 'capped')
  t.equal(backoffDelay(10, policy, () => 0), 2500)
  for (let attempt = 1; attempt <= 8; attempt++) {
    const d = backoffDelay(attempt, policy)
    const ceiling = Math.min(5000, 200 * 2 ** (attempt - 1))
    t.ok(d >= ceiling / 2 && d <= ceiling, `attempt ${attempt}: ${d} ms`)
  }
})

t.test('429 wait comes from X-RateLimit-Reset in epoch seconds', async (t) => {
  const now = 1_700_000_000_250
  t.equal(rateLimitWaitMs('1700000002', now), 1750)
  t.equal(rateLimitWaitMs(undefined, now), DEFAULT_RATE_LIMIT_WAIT_MS, 'absent')
  t.equal(rateLimitWaitMs('', now), DEFAULT_RATE_LIMIT_WAIT_MS, 'empty')
  t.equal(rateLimitWaitMs('soon', now), DEFAULT_RATE_LIMIT_WAIT_MS, 'garbage')
  t.equal(rateLimitWaitMs('1600000000', now), DEFAULT_RATE_LIMIT_WAIT_MS, 'in the past')
  t.equal(rateLimitWaitMs('1800000000', now), MAX_RATE_LIMIT_WAIT_MS, 'far away: capped')
})

t.test('knackMessages reads both error shapes and ignores the rest', async (t) => {
  t.same(knackMessages({ errors: [{ field: 'field_1', type: 'required', message: 'Required' }] }), ['Required'])
  t.same(knackMessages({ errors: ['one', ' two '] }), ['one', 'two'])
  t.same(knackMessages({ errors: 'single' }), ['single'])
  t.same(knackMessages({ errors: [{ field: 'x' }, 3, null, ''] }), [])
  t.same(knackMessages(null), [])
  t.same(knackMessages('<html>'), [])
  t.same(knackMessages({ message: 'no errors key' }), [])
  t.equal(knackMessages({ errors: Array.from({ length: 50 }, () => 'x') }).length, 20, 'bounded')
})
