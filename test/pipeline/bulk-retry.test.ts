// Bulk retry end to end: 40 deliveries over 10 SRs went dead because Knack refused their status
// update after the ESB had said yes; Knack is fixed; POST /deliveries/retry counts them, then
// finishes all 40 with no second ESB message, each SR's in atd order; asking again queues none.
import t from 'tap'
import { activity, knackStatus, postWebhook, startStack, waitFor } from '../helpers/stack.js'
import { shuffled, waitForIdle } from '../helpers/pipeline.js'

const dt = 'data-tracker'

t.test('bulk retry of dead deliveries', async (t) => {
  const stack = await startStack({ env: { OPERATOR_TOKENS: 'dana:dana-token-0123456789' } })
  t.teardown(() => stack.close())
  const service = stack.app!
  const retry = (body: Record<string, unknown>, token = stack.env.ADMIN_TOKEN ?? '') =>
    service.inject({ method: 'POST', url: '/deliveries/retry', headers: { authorization: `Bearer ${token}` }, payload: body })
  const ledger = stack.deps!.ledger

  const srs = Array.from({ length: 10 }, (_, i) => `SR-bulk-${i}`)
  const acts = srs.flatMap((sr, s) => [1, 2, 3, 4].map((k) => activity({ srNumber: sr, atdActivityId: 50_000 + s * 10 + k })))
  const atdOf = new Map(acts.map((a) => [a.id, a.atdActivityId]))
  const srOf = new Map(acts.map((a) => [a.id, a.srNumber]))
  stack.seed(dt, acts)
  stack.knackSim.failNext(40, { method: 'PUT', status: 400, body: { errors: [{ message: 'Field field_1860 must be one of the choices' }] } })
  for (const a of shuffled(acts, 11)) t.equal((await postWebhook(stack, dt, { id: a.id })).statusCode, 202)
  await waitFor(async () => (await ledger.count({ status: 'dead', q: 'must be one of the choices' })) === 40 || undefined, 60_000, '40 dead deliveries')
  await waitForIdle(stack)
  t.equal(stack.esbSim.received.length, 40, 'the ESB accepted each once')

  const dry = await retry({ status: 'dead', dry_run: true })
  t.equal(dry.statusCode, 200, dry.body)
  t.same(dry.json(), { matched: 40, queued: 0, dry_run: true }, 'the dry run counts 40')
  t.equal(await ledger.count({ status: 'dead' }), 40, 'and changes nothing')

  stack.knackSim.resetStats()
  const res = await retry({ status: 'dead', app: dt, since: '1h' }, 'dana-token-0123456789')
  t.same(res.json(), { matched: 40, queued: 40, dry_run: false }, 'all 40 queued again')
  await waitFor(async () => (await ledger.count({ status: 'sent' })) === 40 || undefined, 60_000, '40 sent')
  await waitForIdle(stack)
  t.equal(stack.esbSim.received.length, 40, 'no second ESB message: only the Knack update was repeated')

  const puts = stack.knackSim.stats().puts
  t.equal(puts.length, 40, 'one Knack update each')
  for (const sr of srs) {
    const order = puts.filter((p) => srOf.get(p.id) === sr).map((p) => atdOf.get(p.id) ?? 0)
    t.same(order, [...order].sort((a, b) => a - b), `${sr}: updated in atd order`)
    t.equal(order.length, 4)
  }
  t.ok(acts.every((a) => knackStatus(stack, dt, a.id) === 'SENT'), 'every record SENT in Knack')

  const again = await retry({ status: 'dead', app: dt, since: '1h' })
  t.same(again.json(), { matched: 0, queued: 0, dry_run: false }, 'a second identical call queues none')

  const actions = await ledger.listActions({ limit: 10 })
  t.match(actions.filter((a) => a.kind === 'bulk_retry').map((a) => [a.operator, a.result]), [
    ['admin', { matched: 0, queued: 0 }],
    ['dana', { matched: 40, queued: 40 }]
  ], 'recorded under who asked (the dry run is a question, not an action)')
  t.match(actions.find((a) => a.operator === 'dana')?.request, { status: 'dead', app: dt, since: '1h', resolved: { since: /^\d{4}-/ } })

  t.test('two identical calls at once queue each delivery once', async (t) => {
    const more = Array.from({ length: 12 }, (_, i) => activity({ srNumber: `SR-twice-${i % 3}` }))
    stack.seed(dt, more)
    stack.knackSim.failNext(12, { method: 'PUT', status: 400 })
    for (const a of more) await postWebhook(stack, dt, { id: a.id })
    await waitFor(async () => (await ledger.count({ status: 'dead' })) === 12 || undefined, 60_000, '12 dead')
    const [a, b] = await Promise.all([retry({}), retry({})])
    t.equal(a.json<{ queued: number }>().queued + b.json<{ queued: number }>().queued, 12, 'together they queued 12')
    await waitFor(async () => (await ledger.count({ status: 'sent' })) === 52 || undefined, 60_000, 'all sent')
    await waitForIdle(stack)
    t.equal(stack.esbSim.received.length, 52, 'still one ESB message per delivery')
  })

  t.test('bad requests name the field; nothing is queued', async (t) => {
    const sent = await retry({ status: 'sent' })
    t.equal(sent.statusCode, 400)
    t.match(sent.json(), { error: 'bad_request', details: [{ field: 'status' }] })
    const typo = await retry({ statuss: 'dead' })
    t.equal(typo.statusCode, 400, 'a misspelt filter is refused, not ignored (it would widen the retry)')
    t.match(typo.json(), { details: [{ field: 'statuss' }] })
    const time = await retry({ since: 'last tuesday' })
    t.match(time.json(), { error: 'invalid_input', details: [{ field: 'since', message: /not a time/ }] })
    t.equal((await service.inject({ method: 'POST', url: '/deliveries/retry', payload: {} })).statusCode, 401)
  })
})
