// The Knack simulator over loopback with plain fetch: auth, routes, filters, sort, paging,
// limits and PUT. Also the record shapes of knack-records.ts that it serves.
import t from 'tap'
import type { Test } from 'tap'
import { startKnackSimulator, appSpecFor, type KnackSimulatorOptions } from '../../src/sandbox/knack-simulator.js'
import { activityRecord, fieldsOf, knackDate } from '../../src/sandbox/knack-records.js'
import { testApp, activity, API_KEY } from '../clients/knack/fixtures.js'

const app = testApp()
const F = app.fields
const AUTH = { 'X-Knack-Application-Id': app.credentials.appId, 'X-Knack-REST-API-Key': API_KEY }

interface ListBody {
  total_pages: number
  current_page: number
  total_records: number
  records: Array<Record<string, unknown> & { id: string }>
}

async function setup(t: Test, opts: KnackSimulatorOptions = {}) {
  const sim = await startKnackSimulator({ rateLimit: 1000, ...opts })
  sim.addApp(appSpecFor(app))
  t.teardown(() => sim.close())
  const get = async (path: string, headers: Record<string, string> = AUTH) => {
    const res = await fetch(`${sim.url}${path}`, { headers })
    return { status: res.status, headers: res.headers, body: (await res.json()) as unknown }
  }
  const put = async (path: string, body: string, headers: Record<string, string> = AUTH) => {
    const res = await fetch(`${sim.url}${path}`, { method: 'PUT', headers: { ...headers, 'Content-Type': 'application/json' }, body })
    return { status: res.status, headers: res.headers, body: (await res.json()) as unknown }
  }
  const list = async (query: Record<string, string>) => {
    const r = await get(`/pages/${app.scene}/views/${app.view}/records?${new URLSearchParams(query).toString()}`)
    t.equal(r.status, 200)
    return r.body as ListBody
  }
  return { sim, get, put, list }
}

const VIEW = `/pages/${app.scene}/views/${app.view}/records`

t.test('url ends in /v1 on 127.0.0.1', async (t) => {
  const { sim } = await setup(t)
  t.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/)
})

t.test('auth: both headers must match an app', async (t) => {
  const { get, sim } = await setup(t)
  sim.seed(app.credentials.appId, app.obj, [activity(app, 1)])
  const none = await get(VIEW, {})
  t.equal(none.status, 401)
  t.match(none.body, { errors: [{ message: String }] })
  t.equal((await get(VIEW, { ...AUTH, 'X-Knack-REST-API-Key': 'wrong' })).status, 401)
  t.equal((await get(VIEW, { ...AUTH, 'X-Knack-Application-Id': 'other' })).status, 401)
  t.equal((await get(VIEW)).status, 200)
})

t.test('404 for unknown object, view, record and route', async (t) => {
  const { get, put, sim } = await setup(t)
  sim.seed(app.credentials.appId, app.obj, [activity(app, 1)])
  t.equal((await get('/objects/object_1/fields')).status, 404)
  t.equal((await get(`/pages/${app.scene}/views/view_9/records`)).status, 404)
  t.equal((await get(`${VIEW}/nope`)).status, 404)
  t.equal((await put(`/objects/${app.obj}/records/nope`, '{}')).status, 404)
  t.equal((await get('/whatever')).status, 404)
  t.equal((await get(`${VIEW}/rec-1`)).status, 200)
  t.equal((await get(`/objects/${app.obj}/records/rec-1`)).status, 200)
})

t.test('view records: list shape, default 25 rows, paging, max 1000 rows', async (t) => {
  const { sim, list } = await setup(t)
  sim.seed(app.credentials.appId, app.obj, Array.from({ length: 60 }, (_, i) => activity(app, i + 1)))
  const first = await list({})
  t.equal(first.total_pages, 3)
  t.equal(first.current_page, 1)
  t.equal(first.total_records, 60)
  t.equal(first.records.length, 25)
  const third = await list({ page: '3' })
  t.equal(third.current_page, 3)
  t.equal(third.records.length, 10)
  t.same((await list({ page: '4' })).records, [], 'past the end: empty page')
  const big = await list({ rows_per_page: '5000' })
  t.equal(big.records.length, 60)
  t.equal(big.total_pages, 1)
  t.same(Object.keys(big.records[0] ?? {}).sort(), Object.keys(activity(app, 1)).sort(), 'every field of the object (the documented simplification)')
})

t.test('filters: is, is not, is blank, is not blank, match and/or; bad filters are 400', async (t) => {
  const { sim, list, get } = await setup(t)
  sim.seed(app.credentials.appId, app.obj, [
    activity(app, 1),
    activity(app, 2, { status: 'SENT' }),
    activity(app, 3, { emiId: '' }),
    activity(app, 4, { status: 'SENT', emiId: '' }),
    activity(app, 5)
  ])
  const ids = async (filters: unknown) => (await list({ filters: JSON.stringify(filters), rows_per_page: '1000' })).records.map((r) => r.id)
  const ready = { field: F.esb_status, operator: 'is', value: 'READY_TO_SEND' }
  const emi = { field: F.emi_id, operator: 'is not blank' }
  t.same(await ids({ match: 'and', rules: [ready, emi] }), ['rec-1', 'rec-5'])
  t.same(await ids({ match: 'or', rules: [ready, emi] }), ['rec-1', 'rec-2', 'rec-3', 'rec-5'])
  t.same(await ids({ match: 'and', rules: [{ field: F.esb_status, operator: 'is not', value: 'READY_TO_SEND' }] }), ['rec-2', 'rec-4'])
  t.same(await ids({ match: 'and', rules: [{ field: F.emi_id, operator: 'is blank' }] }), ['rec-3', 'rec-4'])
  t.same(await ids([ready]), ['rec-1', 'rec-3', 'rec-5'], 'a bare array of rules means "and"')
  t.same(await ids({ match: 'and', rules: [{ field: F.atd_activity_id, operator: 'is', value: '4' }] }), ['rec-4'], 'numbers compare as text')
  for (const bad of ['{not json', JSON.stringify({ rules: 'x' }), JSON.stringify({ rules: [{ field: F.emi_id, operator: 'contains', value: 'x' }] })]) {
    const r = await get(`${VIEW}?filters=${encodeURIComponent(bad)}`)
    t.equal(r.status, 400, `400 for ${bad}`)
  }
})

t.test('sort: numeric-aware on the raw value, asc and desc', async (t) => {
  const { sim, list } = await setup(t)
  sim.seed(app.credentials.appId, app.obj, [10, 2, 33, 1, 100].map((n) => activity(app, n)))
  const order = async (sort_order: string) =>
    (await list({ sort_field: F.atd_activity_id, sort_order })).records.map((r) => r[`${F.atd_activity_id}_raw`])
  t.same(await order('asc'), [1, 2, 10, 33, 100])
  t.same(await order('desc'), [100, 33, 10, 2, 1])
  // Text that holds numbers sorts by number too (SR-2 before SR-10).
  sim.seed(app.credentials.appId, app.obj, [
    { ...activity(app, 1), [F.sr_number]: 'SR-10', [`${F.sr_number}_raw`]: 'SR-10' },
    { ...activity(app, 2), [F.sr_number]: 'SR-2', [`${F.sr_number}_raw`]: 'SR-2' }
  ])
  // The others hold SR-3 (rec-10), SR-11 (rec-33) and SR-33 (rec-100); plain text order would be SR-10, SR-11, SR-2, …
  const srs = (await list({ sort_field: F.sr_number, sort_order: 'asc' })).records.map((r) => r[`${F.sr_number}_raw`])
  t.same(srs, ['SR-2', 'SR-3', 'SR-10', 'SR-11', 'SR-33'])
  t.same((await list({ sort_field: F.atd_activity_id, sort_order: 'asc', rows_per_page: '2', page: '2' })).records.map((r) => r.id), ['rec-10', 'rec-33'])
})

t.test('rate limit: over the limit in a sliding second is 429 with the headers', async (t) => {
  const { get, sim } = await setup(t, { rateLimit: 3, dailyLimit: 100 })
  sim.seed(app.credentials.appId, app.obj, [activity(app, 1)])
  const answers = []
  for (let i = 0; i < 5; i++) answers.push(await get(`${VIEW}/rec-1`))
  t.same(
    answers.map((a) => a.status),
    [200, 200, 200, 429, 429]
  )
  const limited = answers[3]
  t.same(limited?.body, { errors: [{ message: 'Rate limit exceeded' }] })
  t.equal(limited?.headers.get('x-ratelimit-limit'), '3')
  t.equal(limited?.headers.get('x-ratelimit-remaining'), '0')
  const reset = Number(limited?.headers.get('x-ratelimit-reset'))
  t.ok(reset >= Math.floor(Date.now() / 1000) && reset <= Math.ceil(Date.now() / 1000) + 2, `reset is an epoch second soon (${reset})`)
  for (const [i, a] of answers.entries()) {
    t.equal(a.headers.get('x-planlimit-limit'), '100')
    t.equal(a.headers.get('x-planlimit-remaining'), String(100 - i - 1), 'the daily counter counts every request')
    t.ok(Number(a.headers.get('x-planlimit-reset')) > Date.now() / 1000)
  }
  const stats = sim.stats()
  t.equal(stats.rateLimited, 2)
  t.equal(stats.maxInAnyWindow, 5)
  t.equal(stats.requests, 5)
  t.equal(stats.byRoute['GET /pages/:scene/views/:view/records/:id'], 5)
  sim.resetStats()
  t.same(sim.stats(), { requests: 0, byRoute: {}, rateLimited: 0, maxInAnyWindow: 0, puts: [], legs: [], arrivals: [] })
  // After the reset time the app may call again.
  await new Promise((r) => setTimeout(r, Math.max(0, reset * 1000 - Date.now()) + 10))
  t.equal((await get(`${VIEW}/rec-1`)).status, 200, 'allowed again after X-RateLimit-Reset')
})

t.test('daily limit: 429 once the plan is used up', async (t) => {
  const { get, sim } = await setup(t, { dailyLimit: 2 })
  sim.seed(app.credentials.appId, app.obj, [activity(app, 1)])
  t.equal((await get(`${VIEW}/rec-1`)).status, 200)
  t.equal((await get(`${VIEW}/rec-1`)).status, 200)
  const over = await get(`${VIEW}/rec-1`)
  t.equal(over.status, 429)
  t.equal(over.headers.get('x-planlimit-remaining'), '0')
})

t.test('PUT merges fields, updates _raw, formats paragraph text, answers the record', async (t) => {
  const { put, sim } = await setup(t)
  sim.seed(app.credentials.appId, app.obj, [activity(app, 1)])
  const r = await put(`/objects/${app.obj}/records/rec-1`, JSON.stringify({ [F.esb_status]: 'SENT', [F.activity_details]: 'a < b\nc' }))
  t.equal(r.status, 200)
  const body = r.body as Record<string, unknown>
  t.equal(body.id, 'rec-1')
  t.equal(body[F.esb_status], 'SENT')
  t.equal(body[`${F.esb_status}_raw`], 'SENT')
  t.equal(body[F.activity_details], 'a &lt; b<br />c')
  t.equal(body[`${F.activity_details}_raw`], 'a < b\nc')
  t.equal(body[F.emi_id], 'EMI-1', 'other fields kept')
  t.same(sim.getRecord(app.credentials.appId, app.obj, 'rec-1'), body, 'stored as answered')
  const puts = sim.stats().puts
  t.equal(puts.length, 1)
  t.match(puts[0], { appId: app.credentials.appId, obj: app.obj, id: 'rec-1', body: { [F.esb_status]: 'SENT' }, at: Number })
})

t.test('PUT rejects unknown fields and bad JSON with Knack-shaped 400s', async (t) => {
  const { put, sim } = await setup(t)
  sim.seed(app.credentials.appId, app.obj, [activity(app, 1)])
  const unknown = await put(`/objects/${app.obj}/records/rec-1`, JSON.stringify({ field_99999: 'x' }))
  t.equal(unknown.status, 400)
  t.match(unknown.body, { errors: [{ field: 'field_99999', type: 'invalid', message: /field_99999/ }] })
  t.equal((await put(`/objects/${app.obj}/records/rec-1`, '{oops')).status, 400)
  t.equal((await put(`/objects/${app.obj}/records/rec-1`, '[1]')).status, 400)
  t.equal(sim.getRecord(app.credentials.appId, app.obj, 'rec-1')?.[F.esb_status], 'READY_TO_SEND', 'unchanged')
  t.equal(sim.stats().puts.length, 0)
})

t.test('fields route lists the object fields', async (t) => {
  const { get } = await setup(t)
  const r = await get(`/objects/${app.obj}/fields`)
  t.equal(r.status, 200)
  t.same(r.body, { fields: fieldsOf(app) })
})

t.test('failNext answers matching requests with the given status, count times', async (t) => {
  const { get, put, sim } = await setup(t)
  sim.seed(app.credentials.appId, app.obj, [activity(app, 1)])
  sim.failNext(2, { method: 'PUT', status: 503 })
  t.equal((await get(`${VIEW}/rec-1`)).status, 200, 'GET does not match')
  t.equal((await put(`/objects/${app.obj}/records/rec-1`, '{}')).status, 503)
  t.equal((await put(`/objects/${app.obj}/records/rec-1`, '{}')).status, 503)
  t.equal((await put(`/objects/${app.obj}/records/rec-1`, '{}')).status, 200, 'only twice')
  sim.failNext(1, { pathIncludes: '/fields', status: 429 })
  const limited = await get(`/objects/${app.obj}/fields`)
  t.equal(limited.status, 429)
  t.ok(Number(limited.headers.get('x-ratelimit-reset')) > Date.now() / 1000 - 1, 'a forced 429 carries a Reset header')
  t.equal(sim.stats().rateLimited, 1)
})

t.test('records and getRecord hand out copies', async (t) => {
  const { sim } = await setup(t)
  sim.seed(app.credentials.appId, app.obj, [activity(app, 1), activity(app, 2)])
  const copy = sim.getRecord(app.credentials.appId, app.obj, 'rec-1')
  if (copy) copy[F.esb_status] = 'CHANGED'
  t.equal(sim.getRecord(app.credentials.appId, app.obj, 'rec-1')?.[F.esb_status], 'READY_TO_SEND')
  t.same(
    sim.records(app.credentials.appId, app.obj).map((r) => r.id),
    ['rec-1', 'rec-2']
  )
  t.equal(sim.getRecord(app.credentials.appId, app.obj, 'nope'), undefined)
  t.throws(() => sim.seed(app.credentials.appId, 'object_1', []), /no object/)
})

t.test('latency delays answers', async (t) => {
  const { get, sim } = await setup(t, { latencyMs: 120 })
  const started = Date.now()
  await get(`/objects/${app.obj}/fields`)
  t.ok(Date.now() - started >= 115, 'the answer waited for the latency')
  sim.setLatency(0)
})

t.test('the network leg comes before Knack counts the request; the latency is both legs together', async (t) => {
  const { get, sim } = await setup(t, { latencyMs: 600, networkMs: 600 })
  const started = Date.now()
  const answer = get(`/objects/${app.obj}/fields`)
  // Our timer expires before the simulator's network leg does, so it runs first however busy the machine is.
  await new Promise((r) => setTimeout(r, 200))
  t.equal(sim.stats().requests, 1, 'the request reached the simulator')
  t.equal(sim.stats().maxInAnyWindow, 0, 'but is not counted while still on its way to Knack')
  t.equal((await answer).status, 200)
  t.equal(sim.stats().maxInAnyWindow, 1, 'counted once it arrived')
  const arrivals = sim.stats().arrivals
  t.equal(arrivals.length, 1, 'one arrival recorded')
  t.equal(arrivals[0]?.appId, app.credentials.appId)
  // Counted when the 600 ms leg ended (Date.now() at the request + the leg), not when it was sent.
  t.ok((arrivals[0]?.at ?? 0) - started >= 595, `counted at the end of the network leg (${(arrivals[0]?.at ?? 0) - started} ms after the request)`)
  t.ok(Date.now() - started >= 595, 'the answer waited for the whole latency')
})

t.test('jitter draws each leg from mean × (1 ± jitter), the same way for the same seed', async (t) => {
  const legsOf = async (seed: number) => {
    const { get, sim } = await setup(t, { latencyMs: 30, networkMs: 20, jitter: 0.3, seed })
    for (let i = 0; i < 20; i++) await get(`/objects/${app.obj}/fields`)
    return sim.stats().legs
  }
  const one = await legsOf(7)
  t.equal(one.length, 20)
  for (const leg of one) {
    t.ok(leg.networkMs >= 14 && leg.networkMs <= 26, `network leg ${leg.networkMs.toFixed(1)} ms within 20 ± 30 %`)
    t.ok(leg.workMs >= 7 && leg.workMs <= 13, `work ${leg.workMs.toFixed(1)} ms within 10 ± 30 %`)
  }
  t.ok(new Set(one.map((l) => l.networkMs)).size > 1, 'the legs vary')
  t.same(await legsOf(7), one, 'the same seed repeats the run')
  t.notSame(await legsOf(8), one, 'another seed does not')
})

t.test('activityRecord: Knack shapes for text, paragraph and date/time', async (t) => {
  const r = activityRecord(app, {
    id: 'abc',
    atdActivityId: 7,
    emiId: 'E1',
    srNumber: 'SR-1',
    status: 'READY_TO_SEND',
    activityName: 'Dispatch Technician',
    details: 'Tom & "Jerry"\n<b>two</b>',
    when: { date: '2019-09-11', time: '16:14' },
    csrActivityCode: 'DISPTECH'
  })
  t.equal(r.id, 'abc')
  t.equal(r[F.atd_activity_id], 7)
  t.equal(r[`${F.atd_activity_id}_raw`], 7)
  t.equal(r[F.activity_details], 'Tom &amp; &quot;Jerry&quot;<br />&lt;b&gt;two&lt;/b&gt;')
  t.equal(r[`${F.activity_details}_raw`], 'Tom & "Jerry"\n<b>two</b>')
  t.equal(r[F.activity_datetime], '09/11/2019 04:14pm')
  t.same(r[`${F.activity_datetime}_raw`], {
    date: '09/11/2019',
    date_formatted: '09/11/2019',
    hours: '04',
    minutes: '14',
    am_pm: 'PM',
    timestamp: '09/11/2019 04:14 pm',
    unix_timestamp: Date.UTC(2019, 8, 11, 16, 14),
    iso_timestamp: '2019-09-11T16:14:00.000Z',
    time: 974
  })
  t.equal(r[F.csr_activity_code], 'DISPTECH')
  t.equal(r[`${F.csr_activity_id}_raw`], '', 'absent optional fields are blank, as Knack sends them')
  t.equal(r[`${F.issue_status_code_snapshot}_raw`], '')
})

t.test('knackDate: midnight and noon, and bad input', async (t) => {
  t.equal(knackDate('2024-01-02', '00:05').formatted, '01/02/2024 12:05am')
  t.equal(knackDate('2024-01-02', '12:00').raw.am_pm, 'PM')
  t.equal(knackDate('2024-01-02', '12:00').raw.hours, '12')
  t.throws(() => knackDate('2024-1-2', '10:00'), RangeError)
  t.throws(() => knackDate('2024-01-02', '25:00'), RangeError)
})

t.test('fieldsOf lists every mapped field but id, with Knack types', async (t) => {
  const fields = fieldsOf(app)
  t.equal(fields.length, 10)
  t.notOk(fields.some((f) => f.key === 'id'))
  t.match(fields.find((f) => f.key === F.activity_datetime), { type: 'date_time' })
  t.match(fields.find((f) => f.key === F.activity_details), { type: 'paragraph_text' })
})
