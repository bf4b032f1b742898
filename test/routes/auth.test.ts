// Who may use the admin routes: ADMIN_TOKEN ("admin") and each OPERATOR_TOKENS person, compared in
// constant time; the request then carries the operator's name for the actions log.
import Fastify from 'fastify'
import t from 'tap'
import { installErrorHandler } from '../../src/routes/error-handler.js'
import { operatorFor, requireOperator } from '../../src/routes/auth.js'

const operators = [
  { name: 'admin', token: 'admin-token-000000' },
  { name: 'ana', token: 'ana-token-1111111' },
  { name: 'ben', token: 'ben-token-2222222' }
]

t.test('operatorFor finds the one holder of a token, or nobody', async (t) => {
  t.equal(operatorFor(operators, 'ana-token-1111111')?.name, 'ana')
  t.equal(operatorFor(operators, 'admin-token-000000')?.name, 'admin')
  t.equal(operatorFor(operators, 'ana-token-111111'), undefined, 'a prefix is not the token')
  t.equal(operatorFor(operators, ''), undefined)
  t.equal(operatorFor(operators, undefined), undefined)
  t.equal(operatorFor([], 'anything'), undefined, 'no operators: nobody gets in')
})

t.test('requireOperator: 401 without the right bearer token, the name on the request with it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  installErrorHandler(app)
  app.decorateRequest('operator', '')
  app.get('/who', { onRequest: requireOperator(operators) }, async (req) => ({ operator: req.operator }))

  for (const [token, name] of [['ana-token-1111111', 'ana'], ['ben-token-2222222', 'ben'], ['admin-token-000000', 'admin']]) {
    const res = await app.inject({ url: '/who', headers: { authorization: `Bearer ${token}` } })
    t.equal(res.statusCode, 200)
    t.same(res.json(), { operator: name }, `${name} is named`)
  }
  for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: 'ana-token-1111111' }, { authorization: 'Basic ana-token-1111111' }]) {
    const res = await app.inject({ url: '/who', headers })
    t.equal(res.statusCode, 401, JSON.stringify(headers))
    t.equal(res.json().error, 'unauthorized')
  }
})
