// Log in with ADMIN_TOKEN or an OPERATOR_TOKENS token (compared in constant time, throttled per
// client address), log out. A login starts a new session, never reuses one.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { LoginThrottled } from '../../errors.js'
import type { ActionEntry } from '../../operations/actions.js'
import { operatorFor } from '../../routes/auth.js'
import type { ConsoleContext } from '../plugin.js'
import { safeNext } from '../paths.js'
import { noticeFor } from '../render.js'
import { answers, csrfField } from '../schemas.js'
import { cookieFlags } from '../security.js'
import { SESSION_COOKIE, SESSION_LIMITS } from '../session.js'

/** Five tries per client address in five minutes; the sixth waits. Tokens are long random
 *  strings: the throttle is there so nobody can hammer the form, not because one guess is close. */
export const LOGIN_LIMIT = { max: 5, timeWindow: 5 * 60_000 }

export function loginPages(app: FastifyInstance, cx: ConsoleContext): void {
  app.get<{ Querystring: { next?: string; notice?: string } }>(
    '/login',
    {
      config: { consolePublic: true },
      schema: {
        querystring: { type: 'object', properties: { next: { type: 'string', maxLength: 512 }, notice: { type: 'string', maxLength: 40 } } },
        response: answers(200, 303, 400)
      }
    },
    async (req, reply) => {
      if (req.consoleSession) return reply.redirect(cx.paths.to(''), 303)
      return cx.render(req, reply, 'login', { title: 'Log in', nav: 'none', notice: noticeFor(req.query.notice), next: safeNext(req.query.next) ?? '', error: null })
    }
  )

  app.post<{ Body: { token: string; next?: string } }>(
    '/login',
    {
      config: {
        consolePublic: true,
        rateLimit: { ...LOGIN_LIMIT, errorResponseBuilder: (_req, limit) => new LoginThrottled(limit.after) }
      },
      schema: {
        body: {
          type: 'object',
          required: ['token'],
          properties: { token: { type: 'string', maxLength: 1024 }, next: { type: 'string', maxLength: 512 }, ...csrfField }
        },
        response: answers(303, 400, 401, 403, 429)
      }
    },
    async (req, reply) => {
      const next = safeNext(req.body.next)
      const operator = operatorFor(cx.config.operators, req.body.token.trim())
      if (!operator) {
        req.log.warn({ ip: req.ip }, 'console login refused')
        return cx.render(req, reply, 'login', { title: 'Log in', nav: 'none', next: next ?? '', error: 'That token is not valid.' }, 401)
      }
      // A session already in this browser ends: a login never inherits one (session fixation).
      await cx.sessions.end(req.cookies[SESSION_COOKIE])
      const token = await cx.sessions.start(operator)
      reply.setCookie(SESSION_COOKIE, token, { ...cookieFlags(cx.config, req, cx.paths.root), maxAge: SESSION_LIMITS.maxAgeMs / 1000 })
      await recordQuietly(cx, req, { kind: 'login', operator: operator.name, request: { via: 'console', ip: req.ip }, result: { session: 'started' } })
      return reply.redirect(cx.paths.to(next ?? ''), 303)
    }
  )

  app.post(
    '/logout',
    { schema: { body: { type: 'object', properties: csrfField }, response: answers(303, 403) } },
    async (req, reply) => {
      await cx.sessions.end(req.cookies[SESSION_COOKIE])
      reply.clearCookie(SESSION_COOKIE, { path: cx.paths.root })
      await recordQuietly(cx, req, { kind: 'logout', operator: req.operator, request: { via: 'console', ip: req.ip }, result: { session: 'ended' } })
      return reply.redirect(cx.paths.to('/login?notice=logged_out'), 303)
    }
  )
}

/** Logins and logouts go in the actions log; a failure to write one is logged, and never keeps
 *  anyone in or out. */
async function recordQuietly(cx: ConsoleContext, req: FastifyRequest, entry: ActionEntry): Promise<void> {
  try {
    await cx.ops.actions.record(entry)
  } catch (err) {
    req.log.error({ err, kind: entry.kind, operator: entry.operator }, 'could not record the console action')
  }
}
