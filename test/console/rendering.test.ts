// What the console's pages may show: every value escaped by the template engine (a record whose
// details hold <script> shows it as text), and never a token, key or password, on any page.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { deriveKeys } from '../../src/console/session.js'
import { TEMPLATES_DIR } from '../../src/console/views.js'
import { ConsoleClient, setCookies } from '../helpers/console.js'
import { printedRoutes } from '../helpers/routes.js'
import { activity, knackRecord, postWebhook, startStack, waitForStatus } from '../helpers/stack.js'

const dt = 'data-tracker'
const SCRIPT = '<script>alert("pwned")</script>'

t.test('templates print raw HTML only where the layout places the page and where a partial goes', async (t) => {
  const files = readdirSync(TEMPLATES_DIR).filter((f) => f.endsWith('.eta'))
  t.ok(files.length >= 10, `${files.length} templates`)
  // What Eta renders is escaped already: the page body and partials are not escaped twice.
  const rendered = (raw: string, file: string) => (file === 'layout.eta' && raw === 'it.body') || /^include\('[a-z-]+', it\)$/.test(raw)
  for (const f of files) {
    const text = readFileSync(join(TEMPLATES_DIR, f), 'utf8')
    const raw = [...text.matchAll(/<%~([^%]*)%>/g)].map((m) => (m[1] ?? '').trim())
    t.same(raw.filter((r) => !rendered(r, f)), [], `${f}: ${raw.length === 0 ? 'no raw output' : raw.join(', ')}`)
  }
  t.ok(readFileSync(join(TEMPLATES_DIR, 'layout.eta'), 'utf8').includes('<%~ it.body %>'), 'the check sees the one raw output that must be there')
})

t.test('a <script> in a record is shown as text on every page that shows it', async (t) => {
  const stack = await startStack({ env: { RETRY_SCHEDULE: '50ms' } })
  t.teardown(() => stack.close())
  const nasty = activity({ details: `Pothole filled ${SCRIPT} & <b>done</b>` })
  const unknown = activity({ activityName: `Paint ${SCRIPT}` })
  stack.seed(dt, [nasty, unknown])
  const ids: number[] = []
  for (const a of [nasty, unknown]) {
    const res = await postWebhook(stack, dt, knackRecord(stack, dt, a.id))
    ids.push(res.json<{ delivery: number }>().delivery)
  }
  const [sentId = 0, deadId = 0] = ids
  await waitForStatus(stack, sentId, ['sent'])
  await waitForStatus(stack, deadId, ['dead'])

  const c = new ConsoleClient(stack.app!)
  await c.login(stack.env.ADMIN_TOKEN ?? '')
  const pages = {
    'the delivery (record, message)': `/console/deliveries/${sentId}`,
    'the dead delivery (reason, attempts)': `/console/deliveries/${deadId}`,
    'the list (last error)': '/console/deliveries',
    'the preview': `/console/preview?app=${dt}&record=${nasty.id}`
  }
  for (const [what, url] of Object.entries(pages)) {
    const res = await c.get(url)
    t.equal(res.statusCode, 200, `${what}: 200`)
    t.notMatch(res.body, /<script/i, `${what}: no script element`)
    t.notMatch(res.body, /<b>done/, `${what}: no markup from the record`)
    t.match(res.body, /&lt;script&gt;alert\(/, `${what}: the text is there, escaped`)
  }
  const record = await c.get(`/console/deliveries/${sentId}`)
  // The record as received: `_raw` as typed (JSON-quoted), the formatted field as Knack escapes it.
  t.ok(record.body.includes('Pothole filled &lt;script&gt;alert(\\&quot;pwned\\&quot;)&lt;/script&gt; &amp; &lt;b&gt;done&lt;/b&gt;'), 'the raw text, character for character')
  t.match(record.body, /&amp;lt;script&amp;gt;/, "the XML's own escaping, escaped again for the page")
})

t.test('no token, key or password on any page', async (t) => {
  const stack = await startStack({
    env: {
      RETRY_SCHEDULE: '50ms',
      OPERATOR_TOKENS: 'ana:ana-secret-token-4711,ben:ben-secret-token-0815',
      ESB_AUTH: 'mtls+basic',
      ESB_USERNAME: 'esb-user-secret-name',
      ESB_PASSWORD: 'esb-password-secret-42',
      ALERT_SLACK_URL: 'https://hooks.slack.com/services/T000/B000/slack-secret-path',
      SMTP_URL: 'smtps://mailer:smtp-secret-pass@127.0.0.1:4650',
      ALERT_EMAIL_FROM: 'knack311@example.gov',
      ALERT_EMAIL_TO: 'team@example.gov'
    }
  })
  t.teardown(() => stack.close())
  const good = activity()
  const bad = activity({ activityName: 'Paint The Moon' })
  stack.seed(dt, [good, bad])
  const ids: number[] = []
  for (const a of [good, bad]) ids.push((await postWebhook(stack, dt, knackRecord(stack, dt, a.id))).json<{ delivery: number }>().delivery)
  await waitForStatus(stack, ids[0] ?? 0, ['sent'])
  await waitForStatus(stack, ids[1] ?? 0, ['dead'])

  const keys = deriveKeys(stack.env.ADMIN_TOKEN ?? '')
  const keyLines = stack.pki.client.key.split('\n').filter((l) => l.length > 40)
  const secrets: Record<string, string> = {
    ADMIN_TOKEN: stack.env.ADMIN_TOKEN ?? '',
    "ana's token": 'ana-secret-token-4711',
    "ben's token": 'ben-secret-token-0815',
    WEBHOOK_SECRET: stack.env.WEBHOOK_SECRET ?? '',
    KNACK_API_KEY: stack.env.KNACK_API_KEY ?? '',
    ESB_USERNAME: 'esb-user-secret-name',
    ESB_PASSWORD: 'esb-password-secret-42',
    'the Slack URL': 'slack-secret-path',
    "the SMTP URL's password": 'smtp-secret-pass',
    'a line of the ESB client key': keyLines[1] ?? 'missing',
    ...Object.fromEntries(
      Object.entries(keys).flatMap(([name, k]) => [
        [`the ${name} key (hex)`, k.toString('hex')],
        [`the ${name} key (base64)`, k.toString('base64').slice(0, 20)],
        [`the ${name} key (base64url)`, k.toString('base64url').slice(0, 20)]
      ])
    )
  }
  t.ok(keyLines.length > 2, 'the key has lines to look for')

  const gets = [...printedRoutes(stack.app!.printRoutes({ commonPrefix: false }))].filter((r) => r.startsWith('GET /console')).sort()
  const pages: Record<string, string[]> = {
    'GET /console': ['/console', '/console?notice=swept'],
    'GET /console/console.css': ['/console/console.css'],
    'GET /console/login': ['/console/login?notice=logged_out'],
    'GET /console/deliveries': ['/console/deliveries', `/console/deliveries?app=${dt}&status=dead`],
    'GET /console/deliveries/{id}': ids.map((id) => `/console/deliveries/${id}?notice=retried`).concat(['/console/deliveries/999999']),
    'GET /console/preview': ['/console/preview', `/console/preview?app=${dt}&record=${good.id}`, `/console/preview?app=${dt}&record=${bad.id}`, `/console/preview?app=${dt}&record=nope`],
    'GET /console/retry': ['/console/retry', '/console/retry?status=dead&count=1', '/console/retry?since=nope&count=1'],
    'GET /console/replay': ['/console/replay', `/console/replay?app=${dt}&since=1h&count=1`, `/console/replay?app=${dt}&since=later&count=1`],
    'GET /console/actions': ['/console/actions']
  }
  t.same(gets, Object.keys(pages).sort(), 'every console page is looked at')

  const seen: Array<[string, string]> = []
  for (const token of [stack.env.ADMIN_TOKEN ?? '', 'ana-secret-token-4711']) {
    const c = new ConsoleClient(stack.app!)
    await c.get('/console/login')
    seen.push(['a failed login', (await c.post('/console/login', { token: `${token}-wrong` })).body])
    const login = await c.post('/console/login', { token })
    const cookies = setCookies(login).map((k) => k.value).concat([...c.jar.values()])
    for (const urls of Object.values(pages)) for (const url of urls) seen.push([url, (await c.get(url)).body])
    seen.push(['a refused form', (await c.post(`/console/deliveries/${ids[1]}/retry`, { _csrf: 'forged' })).body])
    seen.push(['a sweep', (await c.get(String((await c.post(`/console/apps/${dt}/sweep`)).headers.location))).body])
    await c.get('/console/retry?status=dead&count=1')
    seen.push(['a bulk retry', (await c.post('/console/retry', { status: 'dead' })).body])
    await c.get(`/console/replay?app=${dt}&since=1h&count=1`)
    seen.push(['a replay', (await c.post('/console/replay', { app: dt, since: '1h' })).body])
    seen.push(['the actions after all that', (await c.get('/console/actions')).body])
    // The cookies' values are secrets too: nothing may print them back.
    for (const [i, v] of cookies.entries()) secrets[`cookie ${i} of ${token === stack.env.ADMIN_TOKEN ? 'admin' : 'ana'}`] = decodeURIComponent(v).split('.')[0] ?? v
  }
  t.ok(seen.length > 20, `${seen.length} pages rendered`)
  // The search below reads what the pages hold: what they should show is found the same way.
  t.ok(seen.some(([, html]) => html.includes(good.id)), 'a record id is found')
  t.ok(seen.some(([, html]) => html.includes('Logged in as <strong>ana</strong>')), "ana's name is found")
  const leaks: string[] = []
  for (const [url, html] of seen) {
    for (const [name, secret] of Object.entries(secrets)) {
      if (secret.length < 8) throw new Error(`${name} is too short to search for`)
      if (html.includes(secret)) leaks.push(`${name} on ${url}`)
    }
  }
  t.same(leaks, [], `no secret on any of ${seen.length} pages (${Object.keys(secrets).length} secrets searched)`)
})
