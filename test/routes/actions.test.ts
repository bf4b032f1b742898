// Who did what: every retry, bulk retry, resend, replay, manual sweep and prune — and the
// console's logins — is in GET /actions with the operator whose token asked (ADMIN_TOKEN is
// "admin", OPERATOR_TOKENS name people), newest first, with what was asked and what it did.
import t from 'tap'
import { activity, postWebhook, startStack, waitForStatus } from '../helpers/stack.js'
import { waitForIdle } from '../helpers/pipeline.js'

const dt = 'data-tracker'
const tokens = { ana: 'ana-token-0123456789', ben: 'ben-token-0123456789', cara: 'cara-token-0123456789' }

interface ActionView {
  id: number
  at: string
  operator: string
  kind: string
  request: Record<string, unknown>
  result: Record<string, unknown>
}

t.test('the actions log', async (t) => {
  const stack = await startStack({ env: { OPERATOR_TOKENS: Object.entries(tokens).map(([n, k]) => `${n}:${k}`).join(',') } })
  t.teardown(() => stack.close())
  const service = stack.app!
  const as = (who: keyof typeof tokens | 'admin') => ({ authorization: `Bearer ${who === 'admin' ? stack.env.ADMIN_TOKEN : tokens[who]}` })
  const call = (method: 'GET' | 'POST', url: string, who: keyof typeof tokens | 'admin', payload?: unknown) =>
    service.inject({ method, url, headers: as(who), ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) })

  // Two deliveries go dead (an activity the app file does not know), one is sent.
  const [a, b, c] = [activity({ activityName: 'Mystery' }), activity({ activityName: 'Mystery' }), activity()]
  stack.seed(dt, [a, b, c])
  const ids: number[] = []
  for (const x of [a, b]) ids.push((await postWebhook(stack, dt, { id: x.id })).json<{ delivery: number }>().delivery)
  for (const id of ids) await waitForStatus(stack, id, ['dead'], 30_000)
  const sent = (await postWebhook(stack, dt, { id: c.id })).json<{ delivery: number }>().delivery
  await waitForStatus(stack, sent, ['sent'], 30_000)

  t.equal((await call('POST', `/deliveries/${ids[0]}/retry`, 'ana')).statusCode, 202)
  t.equal((await call('POST', `/deliveries/${sent}/retry`, 'ana')).statusCode, 409, 'a refused retry…')
  t.same((await call('POST', '/deliveries/retry', 'ben', { status: 'dead', record: b.id })).json(), { matched: 1, queued: 1, dry_run: false })
  t.equal((await call('POST', `/apps/${dt}/records/${c.id}/resend?wait=10s`, 'admin')).statusCode, 200)
  t.equal((await call('POST', `/apps/${dt}/sweep`, 'cara')).statusCode, 200)
  await waitForIdle(stack)
  t.equal((await call('POST', `/apps/${dt}/replay`, 'ana', { since: '1h' })).statusCode, 200)
  await waitForIdle(stack)
  // The console calls the same services: a prune it would offer, and its logins.
  await service.service.ops.prune({ older_than: '1ms', dry_run: false }, 'ben')
  await service.service.ops.actions.record({ kind: 'login', operator: 'cara', request: { from: '127.0.0.1' }, result: { ok: true } })
  await service.service.ops.actions.record({ kind: 'logout', operator: 'cara', request: {}, result: {} })

  const res = await call('GET', '/actions?limit=100', 'cara')
  t.equal(res.statusCode, 200)
  const actions = res.json<ActionView[]>()
  t.same(
    actions.map((x) => `${x.kind}:${x.operator}`).reverse(),
    ['retry:ana', 'retry:ana', 'bulk_retry:ben', 'resend:admin', 'sweep:cara', 'replay:ana', 'prune:ben', 'login:cara', 'logout:cara'],
    'every action, oldest last, each under its operator'
  )
  const byKind = (kind: string) => actions.filter((x) => x.kind === kind).reverse()
  t.match(byKind('retry'), [
    { request: { delivery: ids[0] }, result: { delivery: ids[0], status: 'queued' } },
    { request: { delivery: sent }, result: { error: 'not_retryable', status: 409 } }
  ], '…is recorded with its reason')
  t.match(byKind('bulk_retry')[0], { request: { status: 'dead', record: b.id }, result: { matched: 1, queued: 1 } })
  t.match(byKind('resend')[0], { request: { app: dt, record: c.id }, result: { status: 'queued', delivery: Number } })
  t.match(byKind('sweep')[0], { request: { app: dt }, result: { found: Number, queued: Number, joined: false } })
  t.match(byKind('replay')[0], { request: { app: dt, since: '1h', resolved: { since: String, until: String } }, result: { matched: Number, queued: Number } })
  t.match(byKind('prune')[0], { request: { older_than: '1ms' }, result: { deleted: Number, complete: true } })
  t.ok(actions.every((x) => !Number.isNaN(Date.parse(x.at))), 'each has its time')
  const times = actions.map((x) => Date.parse(x.at))
  t.same(times, [...times].sort((p, q) => q - p), 'newest first')

  const page = await call('GET', `/actions?limit=3&before=${actions[2]?.id}`, 'ana')
  t.same(page.json<ActionView[]>().map((x) => x.id), actions.slice(3, 6).map((x) => x.id), 'paged with before')
  t.equal((await service.inject({ method: 'GET', url: '/actions' })).statusCode, 401)
  t.equal((await call('GET', '/actions?limit=0', 'ana')).statusCode, 400)
  for (const token of Object.values(tokens)) t.notMatch(JSON.stringify(actions), token, 'no token in the log')
})
