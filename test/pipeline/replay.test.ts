// Replay end to end: 30 activities over 6 SRs were sent; their content changes in Knack; a replay
// of the window sends each again, once, with what Knack holds now, each SR's in atd order — even
// when the same replay is asked twice at once — and reads Knack within its rate limit.
import t from 'tap'
import { REPLAY_MAX_PER_REQUEST } from '../../src/routes/replay.js'
import { activity, adminHeaders, postWebhook, startStack, waitFor } from '../helpers/stack.js'
import { shuffled, waitForIdle } from '../helpers/pipeline.js'

const dt = 'data-tracker'

interface ReplayAnswer {
  matched: number
  queued: number
  duplicates: number
  not_found: number
  invalid: number
  since: string
  until: string
}

t.test('replay a window', async (t) => {
  const stack = await startStack({ env: { OPERATOR_TOKENS: 'rosa:rosa-token-0123456789' } })
  t.teardown(() => stack.close())
  const service = stack.app!
  const ledger = stack.deps!.ledger
  const replay = (body: Record<string, unknown>, app = dt, token = stack.env.ADMIN_TOKEN ?? '') =>
    service.inject({ method: 'POST', url: `/apps/${app}/replay`, headers: { authorization: `Bearer ${token}` }, payload: body })

  const srs = Array.from({ length: 6 }, (_, i) => `SR-replay-${i}`)
  const acts = srs.flatMap((sr, s) => [1, 2, 3, 4, 5].map((k) => activity({ srNumber: sr, atdActivityId: 70_000 + s * 10 + k, details: `first words ${s}.${k}` })))
  const atdOf = new Map(acts.map((a) => [a.id, a.atdActivityId]))
  stack.seed(dt, acts)
  const before = new Date(Date.now() - 1000)
  for (const a of shuffled(acts, 5)) t.equal((await postWebhook(stack, dt, { id: a.id })).statusCode, 202)
  await waitFor(async () => (await ledger.count({ status: 'sent' })) === 30 || undefined, 60_000, '30 sent')
  await waitForIdle(stack)
  const after = new Date(Date.now() + 1000)
  t.equal(stack.esbSim.received.length, 30)

  // Knack's content moves on after they were sent.
  stack.seed(dt, acts.map((a) => ({ ...a, status: 'SENT', details: `corrected ${a.id.slice(-4)}` })))
  const window = { since: before.toISOString(), until: after.toISOString() }

  const dry = await replay({ ...window, dry_run: true })
  t.equal(dry.statusCode, 200, dry.body)
  t.match(dry.json(), { matched: 30, queued: 0, dry_run: true }, 'the dry run counts 30')
  t.equal(stack.esbSim.received.length, 30, 'and sends nothing')

  stack.knackSim.resetStats()
  const [one, two] = await Promise.all([replay(window), replay(window, dt, 'rosa-token-0123456789')])
  t.equal(one.statusCode, 200, one.body)
  t.equal(two.statusCode, 200, two.body)
  const answers = [one.json<ReplayAnswer>(), two.json<ReplayAnswer>()]
  t.equal(answers[0]!.queued + answers[1]!.queued, 30, 'asked twice at once: 30 queued in all')
  t.equal(answers[0]!.duplicates + answers[1]!.duplicates, 30, 'the other call found each already queued')
  t.same(answers.map((a) => a.matched), [30, 30])

  await waitFor(async () => (stack.esbSim.received.length >= 60 ? true : undefined), 60_000, '30 replayed messages')
  await waitForIdle(stack)
  const replayed = stack.esbSim.received.slice(30)
  t.equal(replayed.length, 30, '30 new messages, not 60')
  t.same(replayed.map((m) => m.values.id).sort(), acts.map((a) => a.id).sort(), 'one per activity')
  for (const m of replayed) t.equal(m.values.activity_details, `corrected ${(m.values.id ?? '').slice(-4)}`, `${m.values.id}: Knack's current content`)
  for (const sr of srs) {
    const order = replayed.filter((m) => m.values.sr_number === sr).map((m) => atdOf.get(m.values.id ?? '') ?? 0)
    t.same(order, [...order].sort((a, b) => a - b), `${sr}: in atd order`)
  }
  t.equal((await ledger.list({ status: 'sent', limit: 100 })).filter((d) => d.source === 'replay').length, 30, 'as deliveries with source replay')
  const knack = stack.knackSim.stats()
  t.ok(knack.maxInAnyWindow <= 10, `Knack saw at most 10 requests in any second (${knack.maxInAnyWindow})`)
  t.equal(knack.rateLimited, 0, 'and answered no 429')
  t.equal(knack.byRoute['GET /pages/:scene/views/:view/records/:id'], 60, 'each record read once per call')

  t.test('asked again later, or with a relative window or one SR: nothing new', async (t) => {
    const again = (await replay(window)).json<ReplayAnswer>()
    t.match(again, { matched: 30, queued: 0, duplicates: 30 })
    const relative = (await replay({ since: '1h' })).json<ReplayAnswer>()
    t.match(relative, { matched: 30, queued: 0, duplicates: 30 }, 'the replays themselves are never sources')
    const oneSr = (await replay({ ...window, sr: srs[2] })).json<ReplayAnswer>()
    t.match(oneSr, { matched: 5, queued: 0, duplicates: 5 })
    await waitForIdle(stack)
    t.equal(stack.esbSim.received.length, 60)
  })

  t.test('one SR of a new window; a record Knack no longer has', async (t) => {
    const more = [1, 2, 3].map((k) => activity({ srNumber: 'SR-one', atdActivityId: 80_000 + k }))
    const ghost = activity({ srNumber: 'SR-one', atdActivityId: 80_009 })
    const other = activity({ srNumber: 'SR-other' })
    stack.seed(dt, [...more, ghost, other])
    const since = new Date(Date.now() - 500)
    for (const a of [...more, ghost, other]) await postWebhook(stack, dt, { id: a.id })
    await waitFor(async () => (await ledger.count({ status: 'sent', since })) === 5 || undefined, 60_000, '5 sent')
    await waitForIdle(stack)
    // Someone deletes one of them in Knack afterwards.
    t.ok(stack.knackSim.remove(stack.appConfig(dt).credentials.appId, stack.appConfig(dt).obj, ghost.id))
    const sent = stack.esbSim.received.length
    const res = (await replay({ since: since.toISOString(), sr: 'SR-one' })).json<ReplayAnswer>()
    t.match(res, { matched: 4, queued: 3, not_found: 1, duplicates: 0 })
    await waitFor(async () => (stack.esbSim.received.length >= sent + 3 ? true : undefined), 60_000, '3 more messages')
    await waitForIdle(stack)
    t.same(stack.esbSim.received.slice(sent).map((m) => m.values.id), more.map((a) => a.id), 'SR-one in atd order; SR-other left alone')
  })

  t.test('refusals: bad input names the field; a window too big for one request', async (t) => {
    t.match((await replay({})).json(), { error: 'bad_request', details: [{ field: 'since' }] })
    t.match((await replay({ since: 'monday' })).json(), { error: 'invalid_input', details: [{ field: 'since', message: /not a time/ }] })
    t.match((await replay({ since: '2h', until: '3h' })).json(), { error: 'invalid_input', details: [{ field: 'until', message: /later than since/ }] })
    t.match((await replay({ since: '2h', window: '1d' })).json(), { details: [{ field: 'window' }] }, 'an unknown property is refused')
    t.equal((await replay({ since: '1h' }, 'nope')).statusCode, 404)
    t.equal((await service.inject({ method: 'POST', url: `/apps/${dt}/replay`, payload: { since: '1h' } })).statusCode, 401)
    await t.rejects(service.service.ops.replay(stack.appConfig(dt), { since: '1h' }, 'admin', { maxRecords: 3 }), { code: 'REPLAY_TOO_LARGE', statusCode: 422 })
    t.equal(REPLAY_MAX_PER_REQUEST, 2000, 'the route bounds one request at 2000 records')
    const dryBig = await service.service.ops.replay(stack.appConfig(dt), { since: '1h', dry_run: true }, 'admin', { maxRecords: 3 })
    t.ok(dryBig.matched > 3, 'a dry run still counts a window above the bound')
  })

  t.test('every replay that did something is in the actions log under its operator', async (t) => {
    const res = await service.inject({ method: 'GET', url: '/actions?limit=100', headers: adminHeaders(stack) })
    const replays = res.json<Array<{ operator: string; kind: string; request: Record<string, unknown>; result: Record<string, unknown> }>>().filter((a) => a.kind === 'replay')
    t.ok(replays.some((a) => a.operator === 'rosa'), 'rosa')
    t.ok(replays.some((a) => a.operator === 'admin'), 'admin')
    t.notOk(replays.some((a) => a.request.dry_run === true), 'dry runs are not actions')
    t.ok(replays.some((a) => a.result.error === 'replay_too_large'), 'a refused replay is recorded with its reason')
    t.equal(replays.reduce((n, a) => n + Number(a.result.queued ?? 0), 0), 33, 'the queued counts add up to what was sent')
  })
})
