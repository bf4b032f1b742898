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
