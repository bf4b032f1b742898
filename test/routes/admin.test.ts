// The admin routes against the real service, the Knack simulator and the mutual-TLS ESB simulator.
import t from 'tap'
import { inspectMessage } from '../../src/sandbox/esb-simulator.js'
import { adminHeaders, activity, knackStatus, postWebhook, startStack, waitFor, waitForStatus } from '../helpers/stack.js'

const dt = 'data-tracker'
const sm = 'signs-markings'

interface Delivery {
  id: number
  app: string
  record_id: string
  status: string
  attempts: number
  last_error: string | null
  created_at: string
  history?: Array<{ n: number; step: string; outcome: string; detail: string | null }>
}

t.test('admin routes', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const service = stack.app!
  const auth = adminHeaders(stack)
  const call = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = auth) => service.inject({ method, url, headers })
  const esbMessagesFor = (recordId: string) => stack.esbSim.received.filter((m) => m.values.id === recordId).length

  t.test('every admin route: 401 without or with a wrong token, 404 for an unknown app', async (t) => {
    const seeded = activity()
    stack.seed(dt, [seeded])
    const routes: Array<{ method: 'GET' | 'POST'; url: (app: string) => string; hasApp: boolean }> = [
      { method: 'POST', url: (a) => `/apps/${a}/records/${seeded.id}/resend`, hasApp: true },
      { method: 'POST', url: (a) => `/apps/${a}/sweep`, hasApp: true },
      { method: 'GET', url: (a) => `/apps/${a}/records/${seeded.id}/preview`, hasApp: true },
      { method: 'GET', url: () => '/deliveries', hasApp: false },
      { method: 'GET', url: () => '/deliveries/1', hasApp: false },
      { method: 'POST', url: () => '/deliveries/1/retry', hasApp: false }
    ]
    const wrong: Array<[string, Record<string, string>]> = [
      ['no Authorization', {}],
      ['wrong token', { authorization: `Bearer ${stack.env.ADMIN_TOKEN ?? ''}x` }],
      ['token without Bearer', { authorization: stack.env.ADMIN_TOKEN ?? '' }],
      ['the webhook secret', { authorization: `Bearer ${stack.env.WEBHOOK_SECRET ?? ''}` }],
      ['basic auth', { authorization: `Basic ${Buffer.from(`admin:${stack.env.ADMIN_TOKEN ?? ''}`).toString('base64')}` }]
    ]
    for (const r of routes) {
      for (const [label, headers] of wrong) {
        const res = await call(r.method, r.url(dt), headers)
        t.equal(res.statusCode, 401, `${r.method} ${r.url(dt)} with ${label}`)
        t.match(res.json(), { error: 'unauthorized', message: /bearer token/i, details: [] })
        t.notMatch(res.body, stack.env.ADMIN_TOKEN ?? '-', 'the token is never echoed')
      }
      if (r.hasApp) {
        const res = await call(r.method, r.url('nope'))
        t.equal(res.statusCode, 404, `${r.method} ${r.url('nope')}`)
        t.match(res.json(), { error: 'unknown_app', message: /nope/, details: [] })
        // Unknown app with a wrong token is still 401: nothing is revealed before auth.
        t.equal((await call(r.method, r.url('nope'), {})).statusCode, 401)
      }
    }
    t.equal(stack.esbSim.attempts, 0, 'no rejected call reached the ESB')
    t.same(await stack.deps!.ledger.list({ limit: 10 }), [], 'no rejected call stored anything')
  })

  t.test('resend → 200 sent with the delivery; Knack marked SENT', async (t) => {
    const a = activity({ status: 'SENT' }) // resend sends whatever the status
    stack.seed(dt, [a])
    const res = await call('POST', `/apps/${dt}/records/${a.id}/resend?wait=30s`)
    t.equal(res.statusCode, 200, res.body)
    const body = res.json<{ status: string; delivery: Delivery }>()
    t.equal(body.status, 'sent')
    t.match(body.delivery, { app: dt, record_id: a.id, status: 'sent', attempts: 1, last_error: null })
    t.equal(esbMessagesFor(a.id), 1)
    t.equal(knackStatus(stack, dt, a.id), 'SENT')
  })

  t.test('resend twice in sequence → two deliveries, two ESB messages (by design)', async (t) => {
    const a = activity()
    stack.seed(dt, [a])
    const first = await call('POST', `/apps/${dt}/records/${a.id}/resend`)
    const second = await call('POST', `/apps/${dt}/records/${a.id}/resend`)
    t.equal(first.statusCode, 200, first.body)
    t.equal(second.statusCode, 200, second.body)
    const d1 = first.json<{ delivery: Delivery }>().delivery
    const d2 = second.json<{ delivery: Delivery }>().delivery
    t.not(d1.id, d2.id, 'a new delivery each time')
    t.equal(esbMessagesFor(a.id), 2, 'two messages reached the ESB')
  })

  t.test('resend while the ESB faults → 502 with the fault code and string', async (t) => {
    const a = activity()
    stack.seed(dt, [a])
    stack.esbSim.mode({ fault: { code: 'env:Server', string: 'CSR backend unavailable' } })
    t.teardown(() => stack.esbSim.mode('ok'))
    const res = await call('POST', `/apps/${dt}/records/${a.id}/resend`)
    t.equal(res.statusCode, 502, res.body)
    const body = res.json<{ status: string; error: string; message: string; delivery: Delivery }>()
    t.equal(body.error, 'delivery_failed')
    // A 500 fault is retried on RETRY_SCHEDULE (100 ms…): the answer may already see it dead.
    t.match(body.status, /^(failed|dead)$/)
    t.match(body.message, /env:Server/)
    t.match(body.message, /CSR backend unavailable/)
    t.equal(body.delivery.record_id, a.id)
    t.equal(knackStatus(stack, dt, a.id), 'READY_TO_SEND', 'Knack not marked')
    // Let the scheduled retries finish (dead) so later tests start from a quiet worker.
    await waitForStatus(stack, body.delivery.id, ['dead'], 30_000)
    t.equal(esbMessagesFor(a.id), 0)
  })

  t.test('resend with the ESB slower than ?wait → 202, then it is sent', async (t) => {
    const a = activity()
    stack.seed(dt, [a])
    stack.esbSim.setLatency(1500)
    t.teardown(() => stack.esbSim.setLatency(0))
    const res = await call('POST', `/apps/${dt}/records/${a.id}/resend?wait=200ms`)
    t.equal(res.statusCode, 202, res.body)
    const body = res.json<{ status: string; delivery: Delivery }>()
    t.match(body.status, /^(queued|sending)$/)
    t.equal(body.delivery.status, body.status)
    const d = await waitForStatus(stack, body.delivery.id, ['sent', 'dead'], 30_000)
    t.equal(d.status, 'sent')
  })

  t.test('resend: bad ?wait → 400; unknown record → 404', async (t) => {
    const a = activity()
    stack.seed(dt, [a])
    const bad = await call('POST', `/apps/${dt}/records/${a.id}/resend?wait=soon`)
    t.equal(bad.statusCode, 400, bad.body)
    t.match(bad.json(), { error: 'bad_request', message: /wait/, details: [{ field: 'wait' }] })
    const missing = await call('POST', `/apps/${dt}/records/ffffffffffffffffffffffff/resend`)
    t.equal(missing.statusCode, 404, missing.body)
    t.match(missing.json(), { error: 'record_not_found', message: /ffffffffffffffffffffffff/ })
    t.equal(esbMessagesFor(a.id), 0)
  })

  t.test('preview → the XML, nothing sent', async (t) => {
    const a = activity({ activityName: 'Dispatch Technician', details: 'Signal dark <all> ways', when: { date: '2026-11-28', time: '10:05' } })
    stack.seed(dt, [a])
    const attemptsBefore = stack.esbSim.attempts
    const receivedBefore = stack.esbSim.received.length
    const putsBefore = stack.knackSim.stats().puts.length
    const res = await call('GET', `/apps/${dt}/records/${a.id}/preview`)
    t.equal(res.statusCode, 200, res.body)
    t.match(res.headers['content-type'], /^application\/xml/)
    const parsed = inspectMessage(Buffer.from(res.body), 'text/xml')
    t.ok(parsed.ok, parsed.ok ? 'a well-formed message' : parsed.problem)
    if (parsed.ok) {
      t.match(parsed.values, {
        emi: a.emiId,
        id: a.id,
        sr_number: a.srNumber,
        issue_status_code: 'in_progress',
        outcome_code: 'COMPLET1',
        source: 'KNACK',
        activity_type_code: 'DISPTECH',
        activity_details: 'Signal dark <all> ways',
        activity_date: '2026-11-28T10:05:00-06:00'
      })
    }
    t.equal(stack.esbSim.attempts, attemptsBefore, 'nothing reached the ESB')
    t.equal(stack.esbSim.received.length, receivedBefore)
    t.equal(stack.knackSim.stats().puts.length, putsBefore, 'Knack untouched')
    t.equal(knackStatus(stack, dt, a.id), 'READY_TO_SEND')
    t.same((await stack.deps!.ledger.list({ limit: 1000 })).filter((d) => d.recordId === a.id), [], 'no delivery created')
  })

  t.test('preview of an activity that is not sent → 422 not_sent; invalid → 422; unknown → 404', async (t) => {
    const tweet = activity({ activityName: 'Post Tweet' })
    const broken = activity({ emiId: '' })
    stack.seed(dt, [tweet, broken])
    const res = await call('GET', `/apps/${dt}/records/${tweet.id}/preview`)
    t.equal(res.statusCode, 422, res.body)
    t.match(res.json(), { error: 'not_sent', message: /Post Tweet/, details: [] })
    const bad = await call('GET', `/apps/${dt}/records/${broken.id}/preview`)
    t.equal(bad.statusCode, 422, bad.body)
    t.match(bad.json(), { error: 'record_invalid', message: /emi_id/, details: [{ field: /emi_id/, message: /blank|missing/ }] })
    const missing = await call('GET', `/apps/${dt}/records/ffffffffffffffffffffffff/preview`)
    t.equal(missing.statusCode, 404, missing.body)
    t.match(missing.json(), { error: 'record_not_found' })
  })

  t.test('sweep ?wait=true → found, queued, duplicates and outcomes', async (t) => {
    // signs-markings names its activities differently from data-tracker.
    const act = (o: Parameters<typeof activity>[0] = {}) => activity({ activityName: 'Contact Citizen', ...o })
    const ready = [act(), act(), act({ activityName: 'Attach Image' })]
    const slow = act()
    stack.seed(sm, [...ready, slow, act({ status: 'SENT' }), act({ status: 'DO_NOT_SEND' })])
    // One record is already being delivered (slowly) when the sweep reads it: a duplicate.
    stack.esbSim.setLatency(2500)
    t.teardown(() => stack.esbSim.setLatency(0))
    const a = stack.appConfig(sm)
    const hooked = await postWebhook(stack, sm, stack.knackSim.getRecord(a.credentials.appId, a.obj, slow.id))
    t.equal(hooked.statusCode, 202, hooked.body)
    const res = await call('POST', `/apps/${sm}/sweep?wait=true&timeout=60s`)
    t.equal(res.statusCode, 200, res.body)
    t.match(res.json(), {
      app: sm, found: 4, queued: 3, duplicates: 1, invalid: 0, joined: false, settled: true,
      outcomes: { sent: 3, skipped: 1 }
    })
    for (const r of [...ready.slice(0, 2), slow]) t.equal(knackStatus(stack, sm, r.id), 'SENT')
    t.equal(knackStatus(stack, sm, ready[2]!.id), 'DO_NOT_SEND', 'the skipped activity is marked DO_NOT_SEND')
    t.equal(esbMessagesFor(slow.id), 1, 'the duplicate was sent once')

    const again = await call('POST', `/apps/${sm}/sweep`)
    t.equal(again.statusCode, 200)
    t.match(again.json(), { found: 0, queued: 0, duplicates: 0 })
    t.notOk('outcomes' in again.json<object>(), 'no outcomes without ?wait')
  })

  t.test('GET /deliveries: filters, limit, newest first; bad filters → 400', async (t) => {
    const all = (await call('GET', '/deliveries?limit=1000')).json<Delivery[]>()
    t.ok(all.length >= 8, `${all.length} deliveries so far`)
    const ids = all.map((d) => d.id)
    t.same(ids, [...ids].sort((x, y) => y - x), 'newest first')
    const times = all.map((d) => Date.parse(d.created_at))
    t.same(times, [...times].sort((x, y) => y - x), 'created_at descending')

    const sms = (await call('GET', `/deliveries?app=${sm}`)).json<Delivery[]>()
    t.equal(sms.length, all.filter((d) => d.app === sm).length)
    t.ok(sms.length > 0 && sms.every((d) => d.app === sm))
    const dead = (await call('GET', '/deliveries?status=dead')).json<Delivery[]>()
    t.equal(dead.length, all.filter((d) => d.status === 'dead').length)
    t.ok(dead.length > 0 && dead.every((d) => d.status === 'dead'))
    const both = (await call('GET', `/deliveries?app=${dt}&status=sent`)).json<Delivery[]>()
    t.same(both.map((d) => d.id), all.filter((d) => d.app === dt && d.status === 'sent').map((d) => d.id))
    const two = (await call('GET', '/deliveries?limit=2')).json<Delivery[]>()
    t.same(two.map((d) => d.id), ids.slice(0, 2), 'limit keeps the newest')
    t.same((await call('GET', '/deliveries?app=nope')).json(), [], 'an unknown app lists nothing')

    for (const q of ['status=bogus', 'limit=0', 'limit=abc', 'limit=100000']) {
      const res = await call('GET', `/deliveries?${q}`)
      t.equal(res.statusCode, 400, q)
      t.match(res.json(), { error: 'bad_request', message: /status|limit/, details: [{ field: /status|limit/ }] }, q)
    }
  })

  t.test('GET /deliveries/:id with history; unknown → 404; bad id → 400', async (t) => {
    const [latest] = (await call('GET', `/deliveries?app=${dt}&status=dead&limit=1`)).json<Delivery[]>()
    t.ok(latest, 'a dead delivery from the fault test')
    const res = await call('GET', `/deliveries/${latest!.id}`)
    t.equal(res.statusCode, 200)
    const d = res.json<Delivery>()
    t.equal(d.id, latest!.id)
    t.equal(d.status, 'dead')
    t.match(d.last_error, /env:Server: CSR backend unavailable/)
    t.ok(d.history && d.history.length === d.attempts, `one history entry per attempt (${d.attempts})`)
    t.match(d.history?.[0], { n: 1, step: 'esb', outcome: 'failed', detail: /CSR backend unavailable/ })

    const missing = await call('GET', '/deliveries/999999')
    t.equal(missing.statusCode, 404)
    t.match(missing.json(), { error: 'delivery_not_found', message: /999999/, details: [] })
    t.equal((await call('GET', '/deliveries/abc')).statusCode, 400)
    t.equal((await call('POST', '/deliveries/999999/retry')).statusCode, 404)
  })

  t.test('retry: a dead delivery → 202 → sent; a sent one → 409', async (t) => {
    const a = activity()
    stack.seed(dt, [a])
    stack.esbSim.mode({ status: 400 })
    t.teardown(() => stack.esbSim.mode('ok'))
    const hooked = await postWebhook(stack, dt, stack.knackSim.getRecord(stack.appConfig(dt).credentials.appId, stack.appConfig(dt).obj, a.id))
    t.equal(hooked.statusCode, 202, hooked.body)
    const id = hooked.json<{ delivery: number }>().delivery
    const dead = await waitForStatus(stack, id, ['dead', 'sent'], 30_000)
    t.equal(dead.status, 'dead', 'a 400 is not retried')
    t.match(dead.lastError, /HTTP 400/)

    stack.esbSim.mode('ok')
    const res = await call('POST', `/deliveries/${id}/retry`)
    t.equal(res.statusCode, 202, res.body)
    t.equal(res.json<{ delivery: number }>().delivery, id)
    t.match(res.json<{ status: string }>().status, /^(queued|sending|sent)$/)
    const done = await waitForStatus(stack, id, ['sent', 'dead'], 30_000)
    t.equal(done.status, 'sent')
    t.equal(esbMessagesFor(a.id), 1)
    t.equal(knackStatus(stack, dt, a.id), 'SENT')

    const again = await call('POST', `/deliveries/${id}/retry`)
    t.equal(again.statusCode, 409, again.body)
    t.match(again.json(), { error: 'not_retryable', message: new RegExp(`Delivery ${id} is sent`), details: [] })
    t.equal(esbMessagesFor(a.id), 1, 'nothing resent')
  })

  t.test('public routes: healthz, readyz, metrics, openapi, docs', async (t) => {
    const health = await call('GET', '/healthz', {})
    t.equal(health.statusCode, 200)
    t.same(health.json(), { status: 'ok' })
    const ready = await call('GET', '/readyz', {})
    t.equal(ready.statusCode, 200, ready.body)
    t.match(ready.json(), { status: 'ok', checks: { database: { ok: true }, apps: { ok: true }, certificate: { ok: true } } })
    const metrics = await call('GET', '/metrics', {})
    t.equal(metrics.statusCode, 200)
    t.match(metrics.headers['content-type'], /^text\/plain/)
    t.match(metrics.body, /^# (HELP|TYPE) /m)
    const spec = await call('GET', '/openapi.yaml', {})
    t.equal(spec.statusCode, 200)
    t.match(spec.headers['content-type'], /yaml/)
    t.match(spec.body, /^openapi: /m)
    t.match(spec.body, /\/webhooks\/knack\/\{app\}/)
    let docs = await call('GET', '/docs', {})
    for (let hops = 0; hops < 3 && docs.statusCode >= 300 && docs.statusCode < 400; hops++) {
      const location = String(docs.headers.location ?? '')
      docs = await call('GET', location.startsWith('/') ? location : `/docs/${location.replace(/^\.\//, '')}`, {})
    }
    t.equal(docs.statusCode, 200)
    t.match(docs.body, /swagger|openapi/i)
  })

  t.test('nothing is left in flight', async (t) => {
    await waitFor(async () => {
      const counts = await stack.deps!.ledger.countByStatus()
      return counts.queued + counts.sending + counts.failed + counts.esb_accepted === 0
    }, 30_000, 'the worker to settle')
    t.pass('every delivery settled')
  })
})
