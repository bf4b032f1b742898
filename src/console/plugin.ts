// The console at /console: pages for the people who look after deliveries. Everything here is
// scoped to this plugin (cookies, form bodies, security headers, CSRF, the login throttle, the
// HTML error pages), so the JSON API and /docs behave as before. Pages call the same services as
// the JSON routes and only render differently.
import { readFileSync } from 'node:fs'
import cookie from '@fastify/cookie'
import csrfProtection from '@fastify/csrf-protection'
import formbody from '@fastify/formbody'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ConsoleSession } from '../ledger/types.js'
import type { RouteContext } from '../routes/context.js'
import { errorAnswer, type Detail } from '../routes/error-handler.js'
import { actionsPage } from './pages/actions.js'
import { bulkPages } from './pages/bulk.js'
import { deliveryPages } from './pages/deliveries.js'
import { loginPages } from './pages/login.js'
import { overviewPage } from './pages/overview.js'
import { previewPage } from './pages/preview.js'
import { displayZone } from './format.js'
import { consolePaths, type ConsolePaths } from './paths.js'
import { createRender, type Render } from './render.js'
import { HELMET_OPTIONS, csrfUserInfo } from './security.js'
import { createSessions, deriveKeys, SESSION_COOKIE, type Sessions } from './session.js'
import { STYLESHEET_PATH, registerViews } from './views.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The console login this request carries, or null. */
    consoleSession: ConsoleSession | null
  }
  interface FastifyContextConfig {
    /** A console route open without a login (the login form, the stylesheet). */
    consolePublic?: boolean
  }
}

/** What the console's page modules are given: the routes' context plus the console's own parts. */
export interface ConsoleContext extends RouteContext {
  paths: ConsolePaths
  sessions: Sessions
  render: Render
}

export const CSRF_COOKIE = 'knack311_csrf'

export async function consoleRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const paths = consolePaths(ctx.config.publicUrl)
  const keys = deriveKeys(ctx.config.adminToken)
  const cx: ConsoleContext = {
    ...ctx,
    paths,
    sessions: createSessions({ ledger: ctx.ledger, operators: ctx.config.operators, keys, clock: ctx.clock }),
    render: createRender(ctx.config, paths, displayZone(ctx.config))
  }

  await app.register(cookie, { secret: keys.cookie })
  // Forms are small: a token, a few filters.
  await app.register(formbody, { bodyLimit: 16 * 1024 })
  await app.register(helmet, HELMET_OPTIONS)
  await app.register(rateLimit, { global: false })
  await app.register(csrfProtection, {
    cookieKey: CSRF_COOKIE,
    cookieOpts: { path: paths.root, httpOnly: true, sameSite: 'strict', signed: true },
    // Tokens are bound to the login they were made for (the login form's to none).
    getUserInfo: csrfUserInfo,
    csrfOpts: { hmacKey: keys.csrf, userInfo: true }
  })
  await registerViews(app)

  app.decorateRequest('consoleSession', null)
  app.addHook('onRequest', async (req, reply) => {
    const token = req.cookies[SESSION_COOKIE]
    req.consoleSession = (await cx.sessions.resume(token)) ?? null
    if (req.consoleSession) req.operator = req.consoleSession.operator
    if (req.routeOptions.config.consolePublic || req.consoleSession) return
    return redirectToLogin(cx, req, reply, token !== undefined)
  })
  // Every POST, whatever route: a form of this console, made for this login.
  app.addHook('preValidation', (req, reply, done) => {
    if (req.method === 'POST') app.csrfProtection(req, reply, done)
    else done()
  })
  // Pages show deliveries and carry CSRF tokens: no cache keeps them (the stylesheet says otherwise).
  app.addHook('onSend', async (_req, reply) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
  })
  app.setErrorHandler(async (err: FastifyError & { details?: Detail[] }, req, reply) => errorPage(cx, err, req, reply))
  app.setNotFoundHandler(async (req, reply) =>
    cx.render(req, reply, 'error', { title: 'Not found', nav: 'none', status: 404, message: `There is no console page at ${req.url.split('?')[0]}.`, details: [] }, 404)
  )

  const stylesheet = readFileSync(STYLESHEET_PATH, 'utf8')
  app.get('/console.css', { config: { consolePublic: true }, schema: { response: { 200: { type: 'string' } } } }, async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(stylesheet)
  )

  loginPages(app, cx)
  overviewPage(app, cx)
  deliveryPages(app, cx)
  previewPage(app, cx)
  bulkPages(app, cx)
  actionsPage(app, cx)
}

function redirectToLogin(cx: ConsoleContext, req: FastifyRequest, reply: FastifyReply, hadCookie: boolean) {
  const query = new URLSearchParams()
  // Come back here after logging in; only pages, never a form's POST.
  const here = req.url.slice('/console'.length)
  if (req.method === 'GET' && here !== '' && here !== '/') query.set('next', here)
  if (hadCookie) query.set('notice', 'expired')
  if (hadCookie) reply.clearCookie(SESSION_COOKIE, { path: cx.paths.root })
  const qs = query.toString()
  return reply.redirect(cx.paths.to(`/login${qs ? `?${qs}` : ''}`), 303)
}

/** The contract's error answer, as a page. A CSRF refusal says what to do about it. */
function errorPage(cx: ConsoleContext, err: FastifyError & { details?: Detail[] }, req: FastifyRequest, reply: FastifyReply) {
  const answer = errorAnswer(err, req)
  const csrf = err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET'
  const message = csrf
    ? 'This form is out of date or did not come from this console, so nothing was done. Go back, reload the page and try again.'
    : answer.body.message
  const title = csrf ? 'Form refused' : answer.status === 429 ? 'Too many attempts' : answer.status >= 500 ? 'Something went wrong' : 'That did not work'
  return cx.render(req, reply, 'error', { title, nav: 'none', status: answer.status, message, details: answer.body.details }, answer.status)
}
