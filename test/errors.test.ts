import t from 'tap'
import { UnknownApp, withDetails, knackError, isKnackFailure } from '../src/errors.js'

t.test('coded errors carry code, status and details', async (t) => {
  const err = withDetails(new UnknownApp('nope'), [{ message: 'x' }])
  t.equal(err.code, 'UNKNOWN_APP')
  t.equal(err.statusCode, 404)
  t.equal(err.message, 'No app named "nope"')
  t.same(err.details, [{ message: 'x' }])
  const k = knackError('Knack PUT answered 400', { status: 400, retryable: false, messages: ['bad'] })
  t.ok(isKnackFailure(k))
  t.notOk(isKnackFailure(new Error('other')))
})
