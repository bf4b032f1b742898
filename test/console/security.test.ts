// The console's safety without a browser: logins, CSRF on every form, the login throttle, cookie
// flags, security headers, and sessions that end (log out, idle, too old, token changed).
import { join } from 'node:path'
import t from 'tap'
import { SESSION_LIMITS } from '../../src/console/session.js'
import { ConsoleClient, setCookies } from '../helpers/console.js'
import { printedRoutes } from '../helpers/routes.js'
import { activity, knackRecord, postWebhook, startStack, waitForStatus } from '../helpers/stack.js'

const dt = 'data-tracker'
const ANA = 'ana-token-0123456789'

t.test('without a session every page sends the browser to the login page', async (t) => {
  const stack = await startStack({ startWorker: false })
  t.teardown(() => stack.close())
  const c = new ConsoleClient(stack.app!)
  const overview = await c.get('/console')
  t.equal(overview.statusCode, 303)
  t.equal(overview.headers.location, '/console/login')
  const page = await c.get('/console/deliveries?status=dead')
  t.equal(page.headers.location, `/console/login?next=${encodeURIComponent('/deliveries?status=dead')}`, 'the page asked for comes back after login')
  const login = await c.get(String(page.headers.location))
  t.equal(login.statusCode, 200)
  t.match(login.headers['content-type'], /^text\/html/)
  const res = await c.post('/console/login', { token: stack.env.ADMIN_TOKEN ?? '', next: '/deliveries?status=dead' })
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/console/deliveries?status=dead', 'and there it goes')

  const phished = new ConsoleClient(stack.app!)
  await phished.get('/console/login')
  const away = await phished.post('/console/login', { token: stack.env.ADMIN_TOKEN ?? '', next: '//evil.example/phish' })
  t.equal(away.headers.location, '/console', 'a next that is not a console page is ignored')

  const anonymous = new ConsoleClient(stack.app!)
  await anonymous.get('/console/login')
  const form = await anonymous.post('/console/deliveries/1/retry')
  t.equal(form.statusCode, 303, 'a form posted without a session is refused')
  t.equal(form.headers.location, '/console/login')
})

t.test('every console POST without a valid CSRF token: 403, nothing done', async (t) => {
  const stack = await startStack({ env: { RETRY_SCHEDULE: '50ms', OPERATOR_TOKENS: `ana:${ANA}` } })
  t.teardown(() => stack.close())
  const app = stack.app!
  const bad = activity({ activityName: 'Paint The Moon' })
  stack.seed(dt, [bad])
  const hook = await postWebhook(stack, dt, knackRecord(stack, dt, bad.id))
  const deadId = hook.json<{ delivery: number }>().delivery
  await waitForStatus(stack, deadId, ['dead'])

  const forms: Record<string, string> = {
    'POST /console/login': '/console/login',
    'POST /console/logout': '/console/logout',
    'POST /console/deliveries/{id}/retry': `/console/deliveries/${deadId}/retry`,
    'POST /console/apps/{app}/records/{id}/resend': `/console/apps/${dt}/records/${bad.id}/resend`,
    'POST /console/apps/{app}/sweep': `/console/apps/${dt}/sweep`,
    'POST /console/retry': '/console/retry',
    'POST /console/replay': '/console/replay'
  }
  const served = [...printedRoutes(app.printRoutes({ commonPrefix: false }))].filter((r) => r.startsWith('POST /console')).sort()
  t.same(served, Object.keys(forms).sort(), 'this test posts to every console form the service has')

  const c = new ConsoleClient(app)
  t.equal((await c.login(ANA)).statusCode, 303, 'logged in')
  const loginFormToken = await new ConsoleClient(app).get('/console/login').then((r) => /name="_csrf" value="([^"]+)"/.exec(r.body)?.[1] ?? '')
  const other = new ConsoleClient(app)
  await other.login(stack.env.ADMIN_TOKEN ?? '')
  await other.get('/console')
  const wrong: Array<[string, string | null]> = [
    ['no token', null],
    ['a made-up token', 'x-y-z'],
    ["another session's token", other.csrf ?? ''],
    ["the login form's token (bound to no session)", loginFormToken]
  ]
  for (const [route, url] of Object.entries(forms)) {
    for (const [what, token] of wrong) {
      if (route === 'POST /console/login' && what.startsWith('the login form')) continue
      const res = await c.post(url, { _csrf: token, token: ANA, status: 'dead', app: dt, since: '1h' })
      t.equal(res.statusCode, 403, `${route} with ${what}: 403`)
      t.match(res.body, /nothing was done/, 'the page says so')
    }
  }
  t.equal((await stack.deps!.ledger.get(deadId))?.status, 'dead', 'not retried')
  t.same(await stack.deps!.ledger.lastSweeps(), [], 'not swept')
  t.equal((await stack.deps!.ledger.list({ limit: 10 })).length, 1, 'not resent, not replayed')
  t.same((await stack.app!.service.ops.actions.list({ limit: 10 })).map((a) => a.kind), ['login', 'login'], 'no action but the two logins')
  t.equal((await c.get('/console')).statusCode, 200, 'not logged out')

  // The same forms with the page's own token work: the refusals above were about the token.
  await c.get(`/console/deliveries/${deadId}`)
  const retry = await c.post(forms['POST /console/deliveries/{id}/retry'] ?? '')
  t.equal(retry.statusCode, 303, 'with the page token the retry goes through')
})

t.test('a wrong login five times: the sixth try is throttled, even with the right token', async (t) => {
  const stack = await startStack({ startWorker: false })
  t.teardown(() => stack.close())
  const c = new ConsoleClient(stack.app!, { remoteAddress: '10.9.8.7' })
  await c.get('/console/login')
  for (let i = 1; i <= 5; i++) {
    const res = await c.post('/console/login', { token: `guess-${i}` })
    t.equal(res.statusCode, 401, `wrong token ${i}: 401`)
    t.match(res.body, /That token is not valid/)
    t.notMatch(res.body, `guess-${i}`, 'the wrong token is not shown back')
  }
  const sixth = await c.post('/console/login', { token: stack.env.ADMIN_TOKEN ?? '' })
  t.equal(sixth.statusCode, 429, 'throttled')
  t.ok(Number(sixth.headers['retry-after']) > 0, `Retry-After ${sixth.headers['retry-after']}`)
  t.match(sixth.body, /Too many login attempts from this address/)
  t.same(setCookies(sixth).filter((k) => k.name === 'knack311_session'), [], 'no session')
  const elsewhere = new ConsoleClient(stack.app!, { remoteAddress: '10.9.8.8' })
  t.equal((await elsewhere.login(stack.env.ADMIN_TOKEN ?? '')).statusCode, 303, 'another address is not held back')
})

t.test('the session cookie: HttpOnly, SameSite=Strict, the console path; Secure only when served over HTTPS', async (t) => {
  const sessionCookie = async (c: ConsoleClient, token: string) => {
    const res = await c.login(token)
    const cookie = setCookies(res).find((k) => k.name === 'knack311_session')
    if (!cookie) throw new Error(`no session cookie (HTTP ${res.statusCode})`)
    return { res, cookie }
  }

  await t.test('plain HTTP', async (t) => {
    const stack = await startStack({ startWorker: false })
    t.teardown(() => stack.close())
    const { cookie } = await sessionCookie(new ConsoleClient(stack.app!), stack.env.ADMIN_TOKEN ?? '')
    t.ok(cookie.attributes.has('httponly'), 'HttpOnly')
    t.equal(cookie.attributes.get('samesite'), 'Strict')
    t.equal(cookie.attributes.get('path'), '/console')
    t.equal(cookie.attributes.get('max-age'), String(SESSION_LIMITS.maxAgeMs / 1000), 'gone from the browser at the absolute limit')
    t.notOk(cookie.attributes.has('secure'), 'not Secure: it would never come back over http')
    t.match(cookie.value, /^[A-Za-z0-9_-]{43}$/, '32 random bytes')
    const forged = await sessionCookie(new ConsoleClient(stack.app!, { headers: { 'x-forwarded-proto': 'https' } }), stack.env.ADMIN_TOKEN ?? '')
    t.notOk(forged.cookie.attributes.has('secure'), 'X-Forwarded-Proto from a proxy TRUST_PROXY does not name is not believed')
  })

  await t.test('behind a trusted proxy that says https', async (t) => {
    const stack = await startStack({ startWorker: false, env: { TRUST_PROXY: '127.0.0.1' } })
    t.teardown(() => stack.close())
    const c = new ConsoleClient(stack.app!, { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-proto': 'https' } })
    const { res, cookie } = await sessionCookie(c, stack.env.ADMIN_TOKEN ?? '')
    t.ok(cookie.attributes.has('secure'), 'Secure')
    t.ok(cookie.attributes.has('httponly'))
    t.equal(cookie.attributes.get('samesite'), 'Strict')
    t.ok(setCookies(res).length >= 1)
    const csrfCookie = setCookies(await new ConsoleClient(stack.app!, { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-proto': 'https' } }).get('/console/login')).find((k) => k.name === 'knack311_csrf')
    t.ok(csrfCookie?.attributes.has('secure'), 'the CSRF cookie too')
    t.ok(csrfCookie?.attributes.has('httponly'))
    t.equal(csrfCookie?.attributes.get('samesite'), 'Strict')
  })

  await t.test('under a path of the City proxy (PUBLIC_URL with https and a path)', async (t) => {
    const stack = await startStack({ startWorker: false, env: { PUBLIC_URL: 'https://apps.example.gov/knack311/' } })
    t.teardown(() => stack.close())
    const c = new ConsoleClient(stack.app!)
    const { res, cookie } = await sessionCookie(c, stack.env.ADMIN_TOKEN ?? '')
    t.ok(cookie.attributes.has('secure'), 'Secure: PUBLIC_URL says the browser is on https')
    t.equal(cookie.attributes.get('path'), '/knack311/console', 'the path the browser sees')
    t.equal(res.headers.location, '/knack311/console')
    const page = await c.get('/console')
    t.equal(page.statusCode, 200)
    const links = [...page.body.matchAll(/(?:href|action)="([^"]+)"/g)].map((m) => m[1] ?? '')
    t.ok(links.length > 5, `${links.length} links and forms`)
    t.same(links.filter((l) => !l.startsWith('/knack311/console') && !l.startsWith('#')), [], 'every link and form under the prefix')
    t.equal((await new ConsoleClient(stack.app!).get('/console')).headers.location, '/knack311/console/login')
  })
})

t.test('security headers on console pages; the JSON API and /docs as before', async (t) => {
  const stack = await startStack({ startWorker: false })
  t.teardown(() => stack.close())
  const c = new ConsoleClient(stack.app!)
  await c.login(stack.env.ADMIN_TOKEN ?? '')
  for (const url of ['/console', '/console/login', '/console/deliveries', '/console/no-such-page']) {
    const res = await c.get(url)
    const csp = String(res.headers['content-security-policy'] ?? '')
    t.match(csp, /default-src 'none'/, `${url}: CSP default-src 'none'`)
    t.match(csp, /frame-ancestors 'none'/, `${url}: frame-ancestors 'none'`)
    t.notMatch(csp, /unsafe-inline|unsafe-eval/, `${url}: nothing inline allowed`)
    t.notMatch(csp, /script-src/, `${url}: no script source at all`)
    t.equal(res.headers['x-frame-options'], 'DENY')
    t.equal(res.headers['x-content-type-options'], 'nosniff')
    t.equal(res.headers['referrer-policy'], 'no-referrer')
    t.equal(res.headers['cache-control'], 'no-store', `${url}: not cached`)
    t.notMatch(res.body, /<script/i, `${url}: no script element`)
    t.notMatch(res.body, / style="/, `${url}: no inline style (the CSP would block it)`)
  }
  const notFound = await c.get('/console/no-such-page')
  t.equal(notFound.statusCode, 404)
  t.match(notFound.headers['content-type'], /^text\/html/)
  const css = await c.get('/console/console.css')
  t.equal(css.statusCode, 200)
  t.match(css.headers['content-type'], /^text\/css/)
  t.match(String(css.headers['cache-control']), /max-age/)

  const api = await stack.app!.inject({ method: 'GET', url: '/healthz' })
  t.equal(api.statusCode, 200)
  t.equal(api.headers['content-security-policy'], undefined, 'the JSON API has no console headers')
  const docs = await stack.app!.inject({ method: 'GET', url: '/docs/' })
  t.equal(docs.statusCode, 200, '/docs still works')
  t.equal(docs.headers['content-security-policy'] === undefined || !String(docs.headers['content-security-policy']).includes("default-src 'none'"), true, "/docs keeps its own (Swagger UI's) policy")
  const form = await stack.app!.inject({ method: 'POST', url: '/deliveries/1/retry', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' })
  t.equal(form.statusCode, 401, 'the JSON API does not take console forms (still bearer-only)')
})

t.test('logging out ends the session for good: the old cookie is refused', async (t) => {
  const stack = await startStack({ startWorker: false })
  t.teardown(() => stack.close())
  const c = new ConsoleClient(stack.app!)
  await c.login(stack.env.ADMIN_TOKEN ?? '')
  const stolen = c.jar.get('knack311_session') ?? ''
  const page = await c.get('/console')
  t.equal(page.statusCode, 200)
  const out = await c.post('/console/logout')
  t.equal(out.statusCode, 303)
  t.equal(out.headers.location, '/console/login?notice=logged_out')
  const cleared = setCookies(out).find((k) => k.name === 'knack311_session')
  t.ok(cleared && (cleared.value === '' || cleared.attributes.has('expires')), 'the browser is told to drop it')
  t.equal((await c.get('/console')).statusCode, 303, 'refused now')
  const replay = new ConsoleClient(stack.app!)
  replay.jar.set('knack311_session', stolen)
  const again = await replay.get('/console')
  t.equal(again.statusCode, 303, 'a copy of the old cookie is refused too')
  t.equal(again.headers.location, '/console/login?notice=expired')
})

t.test('a session ends when idle too long, or too old however busy', async (t) => {
  let offset = 0
  const stack = await startStack({ startWorker: false, clock: () => new Date(Date.now() + offset) })
  t.teardown(() => stack.close())
  const minutes = (n: number) => n * 60_000

  const c = new ConsoleClient(stack.app!)
  await c.login(stack.env.ADMIN_TOKEN ?? '')
  offset += minutes(29)
  t.equal((await c.get('/console')).statusCode, 200, '29 minutes idle: still in')
  offset += minutes(29)
  t.equal((await c.get('/console')).statusCode, 200, 'another 29: still in (each page counts as use)')
  offset += SESSION_LIMITS.idleMs + 1000
  const idle = await c.get('/console')
  t.equal(idle.statusCode, 303, 'idle past the limit: out')
  t.equal(idle.headers.location, '/console/login?notice=expired')
  t.match((await c.get(String(idle.headers.location))).body, /Your session ended/, 'and told why')

  offset = 0
  const busy = new ConsoleClient(stack.app!)
  await busy.login(stack.env.ADMIN_TOKEN ?? '')
  let used = 0
  while (offset + minutes(20) < SESSION_LIMITS.maxAgeMs && used < 100) {
    offset += minutes(20)
    used++
    if ((await busy.get('/console')).statusCode !== 200) break
  }
  t.equal(used, Math.ceil(SESSION_LIMITS.maxAgeMs / minutes(20)) - 1, `used every 20 minutes for ${(used * 20) / 60} h without a break in`)
  offset = SESSION_LIMITS.maxAgeMs + 1000
  t.equal((await busy.get('/console')).statusCode, 303, 'past the absolute limit: out, however busy')
})

t.test('sessions survive a restart; a changed token ends its sessions', async (t) => {
  const dir = t.testdir({})
  const env = {
    ADMIN_TOKEN: 'admin-restart-token',
    OPERATOR_TOKENS: `ana:${ANA}`,
    DATABASE_URL: `sqlite:${join(dir, 'ledger.sqlite')}`
  }
  const first = await startStack({ dir, startWorker: false, env })
  const admin = new ConsoleClient(first.app!)
  const ana = new ConsoleClient(first.app!)
  await admin.login(env.ADMIN_TOKEN)
  await ana.login(ANA)
  t.match((await ana.get('/console')).body, /Logged in as <strong>ana<\/strong>/, 'ana is named on the page')
  await first.close()

  const withCookies = (app: NonNullable<typeof first.app>, from: ConsoleClient) => {
    const c = new ConsoleClient(app)
    for (const [k, v] of from.jar) c.jar.set(k, v)
    return c
  }
  const second = await startStack({ dir, startWorker: false, env })
  t.equal((await withCookies(second.app!, admin).get('/console')).statusCode, 200, 'admin is still in after a restart')
  t.equal((await withCookies(second.app!, ana).get('/console')).statusCode, 200, 'ana too')
  await second.close()

  const third = await startStack({ dir, startWorker: false, env: { ...env, OPERATOR_TOKENS: 'ana:ana-new-token-9876543210' } })
  t.equal((await withCookies(third.app!, ana).get('/console')).statusCode, 303, "ana's token changed: her session ends")
  t.equal((await withCookies(third.app!, admin).get('/console')).statusCode, 200, "admin's does not")
  await third.close()

  const fourth = await startStack({ dir, startWorker: false, env: { ...env, ADMIN_TOKEN: 'admin-rotated-token' } })
  t.teardown(() => fourth.close())
  t.equal((await withCookies(fourth.app!, admin).get('/console')).statusCode, 303, 'ADMIN_TOKEN rotated: every session ends')
  t.equal((await withCookies(fourth.app!, ana).get('/console')).statusCode, 303)
})
