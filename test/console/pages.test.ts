// The console's pages and actions against the real service and simulators, without a browser:
// what each page shows, and that its buttons do what the JSON routes do.
import t from 'tap'
import { ConsoleClient } from '../helpers/console.js'
import { activity, knackRecord, knackStatus, postWebhook, startStack, waitFor, waitForStatus } from '../helpers/stack.js'

const dt = 'data-tracker'
const sm = 'signs-markings'

/** Text of the page without tags and with white space collapsed: what a person reads. */
const readable = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/\s+/g, ' ')

t.test('the console', async (t) => {
  const stack = await startStack({ env: { RETRY_SCHEDULE: '50ms' } })
  t.teardown(() => stack.close())
  const app = stack.app!
  const c = new ConsoleClient(app)
  t.equal((await c.login(stack.env.ADMIN_TOKEN ?? '')).statusCode, 303)

  const ok = activity()
  const unknown = activity({ activityName: 'Paint The Moon' })
  const refused = activity()
  stack.seed(dt, [ok, unknown, refused])
  // Knack refuses to mark this one SENT after the ESB took it: dead, with Knack's reason.
  stack.knackSim.failNext(1, { method: 'PUT', pathIncludes: refused.id, status: 400, body: { errors: [{ message: 'field_2449 is not a valid choice' }] } })
  const ids: Record<string, number> = {}
  for (const [name, a] of Object.entries({ ok, unknown, refused })) {
    ids[name] = (await postWebhook(stack, dt, knackRecord(stack, dt, a.id))).json<{ delivery: number }>().delivery
  }
  await waitForStatus(stack, ids.ok ?? 0, ['sent'])
  await waitForStatus(stack, ids.unknown ?? 0, ['dead'])
  await waitForStatus(stack, ids.refused ?? 0, ['dead'])

  await t.test('overview: per app counts by status, what needs a person, Knack calls left, the certificate', async (t) => {
    const res = await c.get('/console')
    t.equal(res.statusCode, 200)
    const dtCard = readable(res.body.slice(res.body.indexOf('id="app-data-tracker"'), res.body.indexOf('id="app-signs-markings"')))
    t.match(dtCard, /sent 1 /, 'data-tracker: 1 sent')
    t.match(dtCard, /dead 2 /, 'data-tracker: 2 dead')
    t.match(dtCard, /2 dead deliveries need a person/)
    t.match(dtCard, /Oldest undelivered none: nothing waiting/)
    t.match(dtCard, /Last sweep not swept yet/)
    t.match(dtCard, /Knack calls left today 2\d,\d{3}/, 'as Knack last reported it')
    const smCard = readable(res.body.slice(res.body.indexOf('id="app-signs-markings"')))
    t.match(smCard, /dead 0 /, 'signs-markings: nothing dead')
    t.match(readable(res.body), /ESB client certificate \d+ days to expiry/)
  })

  await t.test('the sweep button sweeps the app; its card shows the result', async (t) => {
    const more = [activity({ activityName: 'Conduct Investigation' }), activity({ activityName: 'Contact Citizen' })]
    stack.seed(sm, more)
    await c.get('/console')
    const res = await c.post(`/console/apps/${sm}/sweep`)
    t.equal(res.statusCode, 303)
    t.equal(res.headers.location, `/console?notice=swept#app-${sm}`)
    const page = await c.get(String(res.headers.location))
    t.match(readable(page.body), /Sweep finished: its result is on the app card/)
    const card = readable(page.body.slice(page.body.indexOf(`id="app-${sm}"`)))
    t.match(card, /Last sweep just now \(console\): found 2, queued 2, duplicates 0, invalid 0/)
    await waitFor(() => more.every((a) => knackStatus(stack, sm, a.id) === 'SENT'), 10_000, 'the swept records sent')
    t.equal((await c.post(`/console/apps/nope/sweep`)).statusCode, 404, 'an unknown app: 404')
  })

  await t.test('deliveries: filters by app and status, newest first, status as a word with its colour', async (t) => {
    const all = await c.get('/console/deliveries')
    t.equal(all.statusCode, 200)
    const rows = [...all.body.matchAll(/<a href="\/console\/deliveries\/(\d+)">/g)].map((m) => Number(m[1]))
    t.same(rows, [...rows].sort((a, b) => b - a), 'newest first')
    t.ok(rows.length >= 5)
    const dead = await c.get(`/console/deliveries?app=${dt}&status=dead`)
    const deadRows = [...dead.body.matchAll(/<a href="\/console\/deliveries\/(\d+)">/g)].map((m) => Number(m[1]))
    t.same(deadRows, [ids.refused, ids.unknown], 'the two dead ones')
    t.match(dead.body, /<span class="status status-dead" title="given up: needs a person">dead<\/span>/, 'colour class and word')
    t.match(dead.body, /<option value="dead" selected>/, 'the form keeps the filter')
    t.match(readable(dead.body), /Paint The Moon/, 'the reason in the row')
    t.equal((await c.get('/console/deliveries?status=lost')).statusCode, 400, 'an unknown status: 400')
    const one = await c.get('/console/deliveries?limit=1')
    t.equal([...one.body.matchAll(/<a href="\/console\/deliveries\/(\d+)">/g)].length, 1, 'limit')
  })

  await t.test('one delivery: reason, attempts, the ESB answer, the message, the record', async (t) => {
    const res = await c.get(`/console/deliveries/${ids.refused}`)
    t.equal(res.statusCode, 200)
    const text = readable(res.body)
    t.match(text, /Delivery #\d+ dead/)
    t.match(text, /Reason Knack status update: .* answered 400: field_2449 is not a valid choice/)
    t.match(text, /1 esb accepted HTTP 200/, 'the ESB attempt')
    t.match(text, /1 knack failed Knack status update/, 'the Knack attempt')
    t.match(text, /The ESB's answer .*submitKnackResponse/, "the ESB's answer")
    t.match(res.body, /&lt;sr_number&gt;SR-\d+&lt;\/sr_number&gt;/, 'the message, escaped')
    t.match(text, /only Knack's status is updated/, 'retry explains it repeats only the Knack update')
    t.match(res.body, /&quot;field_\d+&quot;: &quot;READY_TO_SEND&quot;/, 'the record as received')
    const skipped = await c.get(`/console/deliveries/${ids.unknown}`)
    t.match(readable(skipped.body), /No message: Activity name "Paint The Moon" is not in the activity_codes/)
    t.match(readable(skipped.body), /1 build unmapped/)
    t.equal((await c.get('/console/deliveries/424242')).statusCode, 404)
    t.equal((await c.get('/console/deliveries/abc')).statusCode, 400)
  })

  await t.test('retry: a dead delivery queued again; after the ESB said yes, only Knack is updated', async (t) => {
    const before = stack.esbSim.received.filter((m) => m.values.id === refused.id).length
    await c.get(`/console/deliveries/${ids.refused}`)
    const res = await c.post(`/console/deliveries/${ids.refused}/retry`)
    t.equal(res.statusCode, 303)
    t.equal(res.headers.location, `/console/deliveries/${ids.refused}?notice=retried`)
    const page = await c.get(String(res.headers.location))
    t.match(page.body, /<h1>Delivery #\d+ <span class="status status-sent"/, 'the page shows it sent')
    t.equal(knackStatus(stack, dt, refused.id), 'SENT')
    t.equal(stack.esbSim.received.filter((m) => m.values.id === refused.id).length, before, 'no second ESB message')
    const again = await c.post(`/console/deliveries/${ids.refused}/retry`)
    t.equal(again.statusCode, 409, 'a sent delivery is not retried')
    t.match(readable(again.body), /only failed or dead deliveries can be retried/)
  })

  await t.test('resend reads the record from Knack now and sends it', async (t) => {
    await c.get(`/console/deliveries/${ids.ok}`)
    const res = await c.post(`/console/apps/${dt}/records/${ok.id}/resend`)
    t.equal(res.statusCode, 303)
    const id = Number(/\/console\/deliveries\/(\d+)\?notice=resent$/.exec(String(res.headers.location))?.[1])
    t.ok(id > (ids.ok ?? 0), `a new delivery #${id}`)
    const page = await c.get(String(res.headers.location))
    t.match(readable(page.body), /Came in by resend/)
    t.equal(stack.esbSim.received.filter((m) => m.values.id === ok.id).length, 2, 'the ESB got it again')
    t.equal((await c.post(`/console/apps/${dt}/records/nope/resend`)).statusCode, 404, 'a record Knack lacks: 404')
  })

  await t.test('preview a record by id: the XML, or why nothing would be sent; nothing sent', async (t) => {
    const sentBefore = stack.esbSim.received.length
    const form = await c.get('/console/preview')
    t.equal(form.statusCode, 200)
    t.match(form.body, /<label for="p-record">Knack record id<\/label>/)
    const xml = await c.get(`/console/preview?app=${dt}&record=${ok.id}`)
    t.equal(xml.statusCode, 200)
    t.match(xml.body, new RegExp(`&lt;id&gt;${ok.id}&lt;/id&gt;`))
    const none = await c.get(`/console/preview?app=${dt}&record=${unknown.id}`)
    t.match(readable(none.body), /It would end dead: Activity name "Paint The Moon"/)
    const missing = await c.get(`/console/preview?app=${dt}&record=nope`)
    t.equal(missing.statusCode, 404)
    t.match(readable(missing.body), /No record "nope" in the view of app data-tracker/)
    t.equal((await c.get('/console/preview?app=nope&record=x')).statusCode, 404)
    t.equal(stack.esbSim.received.length, sentBefore, 'nothing was sent')
  })
})

t.test("the overview shows the ESB's state: paused since when and why, then ok again", async (t) => {
  const stack = await startStack({ env: { RETRY_SCHEDULE: '50ms', ESB_PAUSE_AFTER: '2', ESB_PROBE_EVERY: '200ms' } })
  t.teardown(() => stack.close())
  const c = new ConsoleClient(stack.app!)
  await c.login(stack.env.ADMIN_TOKEN ?? '')
  const esbFact = async () => readable(/<dd id="esb-state">[\s\S]*?<\/dd>/.exec((await c.get('/console')).body)?.[0] ?? '')
  t.match(await esbFact(), /^ ok /, 'ok before anything happened')

  await stack.esbSim.down()
  const waiting = [activity(), activity(), activity()]
  stack.seed(dt, waiting)
  for (const a of waiting) await postWebhook(stack, dt, knackRecord(stack, dt, a.id))
  const paused = await waitFor(async () => {
    const text = await esbFact()
    return /paused/.test(text) ? text : undefined
  }, 20_000, 'the overview to show the pause')
  t.match(paused, /paused since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \w+ \(/, 'since when')
  t.match(paused, /sending paused: the ESB endpoint failed 2 times in a row/, 'why')
  t.match(paused, /last error: .*(refused|reset)/, 'the last error')
  t.match(paused, /deliveries wait, none is used up/)
  const page = await c.get('/console')
  t.match(page.body, /<span class="tone tone-bad">paused<\/span>/, 'shown as trouble')

  await stack.esbSim.up()
  await waitFor(() => waiting.every((a) => knackStatus(stack, dt, a.id) === 'SENT'), 20_000, 'everything sent after the ESB is back')
  const back = await esbFact()
  t.match(back, /^ ok sending since /, 'ok again, since the resume')
  t.match(back, /last error: /, 'what the pause was about is still shown')
})

t.test('every filter, paging, bulk retry and replay (count, then confirm), the actions log', async (t) => {
  const stack = await startStack({ env: { RETRY_SCHEDULE: '50ms', OPERATOR_TOKENS: 'ana:ana-pages-token-4242' } })
  t.teardown(() => stack.close())
  const c = new ConsoleClient(stack.app!)
  await c.login('ana-pages-token-4242')
  const idsOf = (html: string) => [...html.matchAll(/<a href="\/console\/deliveries\/(\d+)">/g)].map((m) => Number(m[1]))

  // Six dead (two SRs, three activities each, names the app does not know) and three sent.
  const dead = ['26-00000001', '26-00000002'].flatMap((sr) => [1, 2, 3].map((k) => activity({ srNumber: sr, atdActivityId: Number(sr.slice(-1)) * 10 + k, activityName: 'Paint The Moon' })))
  const fine = [activity({ srNumber: '26-00000003' }), activity({ srNumber: '26-00000003' }), activity({ srNumber: '26-00000004' })]
  stack.seed(dt, [...dead, ...fine])
  const id: Record<string, number> = {}
  for (const a of [...dead, ...fine]) id[a.id] = (await postWebhook(stack, dt, knackRecord(stack, dt, a.id))).json<{ delivery: number }>().delivery
  for (const a of dead) await waitForStatus(stack, id[a.id] ?? 0, ['dead'])
  for (const a of fine) await waitForStatus(stack, id[a.id] ?? 0, ['sent'])

  await t.test('each filter of GET /deliveries, alone and together, gives the same rows as the JSON route', async (t) => {
    const since = new Date(Date.now() - 3_600_000).toISOString()
    const cases = [
      `sr=26-00000002`,
      `record=${dead[0]?.id}`,
      `q=paint+the+moon`,
      `since=${encodeURIComponent(since)}&until=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
      `since=1h&status=dead&sr=26-00000001`,
      `app=${dt}&status=sent`
    ]
    for (const q of cases) {
      const page = await c.get(`/console/deliveries?${q}`)
      t.equal(page.statusCode, 200, q)
      const api = await stack.app!.inject({ method: 'GET', url: `/deliveries?${q}`, headers: { authorization: `Bearer ${stack.env.ADMIN_TOKEN}` } })
      t.same(idsOf(page.body), api.json<Array<{ id: number }>>().map((d) => d.id), `${q}: the rows of GET /deliveries`)
      t.ok(idsOf(page.body).length > 0, `${q}: some rows`)
    }
    t.same(idsOf((await c.get('/console/deliveries?sr=26-00000002')).body).length, 3)
    const bad = await c.get('/console/deliveries?since=yesterday&until=tomorrow')
    t.equal(bad.statusCode, 400, 'a bad time: 400, on the page')
    t.match(readable(bad.body), /since "yesterday" is not a time/)
    t.match(bad.body, /id="f-since" name="since" aria-invalid="true"/, 'the field is marked')
    t.match(bad.body, /value="yesterday"/, 'what was typed stays in the form')
  })

  await t.test('paging: older and newest links walk every row once', async (t) => {
    const seen: number[] = []
    let url: string | undefined = '/console/deliveries?limit=4'
    for (let pages = 0; url && pages < 10; pages++) {
      const page = await c.get(url)
      seen.push(...idsOf(page.body))
      url = /<a href="([^"]+)" rel="next">Older/.exec(page.body)?.[1]?.replace(/&amp;/g, '&')
      if (pages > 0) t.match(page.body, /← Newest/, 'a way back to the newest')
    }
    t.same(seen, [...new Set(seen)], 'no row twice')
    t.equal(seen.length, 9, 'every row')
    t.same(seen, [...seen].sort((a, b) => b - a), 'newest first throughout')
  })

  await t.test('bulk retry: the count first, then the confirmation queues them', async (t) => {
    const form = await c.get('/console/retry')
    t.equal(form.statusCode, 200)
    t.notMatch(form.body, /Retry these/, 'no button before the count')
    const counted = await c.get(`/console/retry?app=${dt}&status=dead&sr=26-00000001&count=1`)
    t.match(readable(counted.body), /3 failed or dead deliveries match\./)
    t.match(counted.body, /<input type="hidden" name="sr" value="26-00000001">/, 'the confirmation carries the filter')
    t.equal((await stack.deps!.ledger.get(id[dead[0]?.id ?? ''] ?? 0))?.status, 'dead', 'counting changes nothing')
    const done = await c.post('/console/retry', { app: dt, status: 'dead', sr: '26-00000001', expected: '3' })
    t.equal(done.statusCode, 200)
    t.match(readable(done.body), /Queued 3 of 3 matching deliveries again\./)
    for (const a of dead.slice(0, 3)) await waitForStatus(stack, id[a.id] ?? 0, ['dead'])
    t.equal((await stack.deps!.ledger.get(id[dead[3]?.id ?? ''] ?? 0))?.attempts, 1, "the other SR's were left alone")
    const none = await c.get('/console/retry?status=failed&count=1')
    t.match(readable(none.body), /No failed or dead delivery matches: nothing to retry/)
    t.notMatch(none.body, /Retry these/)
    const refused = await c.get('/console/retry?status=sent&count=1')
    t.equal(refused.statusCode, 400, 'only failed or dead can be retried')
    t.match(readable(refused.body), /status must be one of failed, dead/)
  })

  await t.test('replay: the count first, then the confirmation sends them again as Knack holds them now', async (t) => {
    const before = stack.esbSim.received.length
    const counted = await c.get(`/console/replay?app=${dt}&since=1h&sr=26-00000003&count=1`)
    t.equal(counted.statusCode, 200)
    t.match(readable(counted.body), /2 activities of data-tracker the ESB accepted from .* until .* for SR 26-00000003 would be read from Knack again and sent again\./)
    t.equal(stack.esbSim.received.length, before, 'counting sends nothing')
    const since = /name="since" value="([^"]+)"/.exec(counted.body.slice(counted.body.indexOf('method="post" action="/console/replay"')))?.[1]
    t.match(since, /^\d{4}-\d\d-\d\dT/, 'the confirmation carries the window as it was counted, not "1h"')
    const done = await c.post('/console/replay', { app: dt, since: since ?? '', until: new Date(Date.now() + 1000).toISOString(), sr: '26-00000003', expected: '2' })
    t.equal(done.statusCode, 200)
    t.match(readable(done.body), /Queued 2 of 2 activities to be sent again\./)
    await stack.esbSim.waitForReceived(before + 2, 10_000)
    const again = await c.post('/console/replay', { app: dt, since: since ?? '', sr: '26-00000003' })
    t.match(readable(again.body), /Queued 0 of 2 activities .* 2 already replayed or waiting to be sent/, 'asked again: nothing new')
    const missing = await c.get('/console/replay?since=1h&count=1')
    t.equal(missing.statusCode, 400, 'no app chosen')
    const late = await c.get(`/console/replay?app=${dt}&since=later&count=1`)
    t.equal(late.statusCode, 400)
    t.match(late.body, /id="r-since" name="since" aria-invalid="true"/)
  })

  await t.test('the actions log: what was done here, under the operator who did it', async (t) => {
    await c.get(`/console/deliveries/${id[dead[3]?.id ?? '']}`)
    await c.post(`/console/deliveries/${id[dead[3]?.id ?? '']}/retry`)
    await c.get('/console')
    await c.post(`/console/apps/${sm}/sweep`)
    await c.post('/console/logout')
    const admin = new ConsoleClient(stack.app!)
    await admin.login(stack.env.ADMIN_TOKEN ?? '')
    const page = await admin.get('/console/actions')
    t.equal(page.statusCode, 200)
    const rows = [...page.body.matchAll(/<tr id="action-\d+">([\s\S]*?)<\/tr>/g)].map((m) => readable(m[1] ?? '').trim())
    const kinds = rows.map((r) => /^\S+ \S+ \S+ (\S+) (\S+)/.exec(r)?.slice(1, 3).join(' '))
    t.same(kinds, ['admin login', 'ana logout', 'ana sweep', 'ana retry', 'ana replay', 'ana replay', 'ana bulk_retry', 'ana login'], 'newest first, each under its operator')
    t.match(rows[3], /delivery: \d+ .*status: /, 'what the retry did')
    t.match(rows[6], /sr: 26-00000001 .* matched: 3 · queued: 3/, 'what the bulk retry was asked and did')
    const api = await stack.app!.inject({ method: 'GET', url: '/actions', headers: { authorization: `Bearer ${stack.env.ADMIN_TOKEN}` } })
    t.same(api.json<Array<{ operator: string; kind: string }>>().map((a) => `${a.operator} ${a.kind}`), kinds, 'the same log as GET /actions')
  })
})
