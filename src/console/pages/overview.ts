// GET /console — the overview; POST /console/apps/:app/sweep — the sweep button on each app card.
import type { FastifyInstance } from 'fastify'
import { appFrom, requireKnownApp } from '../../routes/context.js'
import { buildOverview } from '../overview.js'
import type { ConsoleContext } from '../plugin.js'
import { noticeFor } from '../render.js'
import { appParams } from '../../routes/schemas.js'
import { answers, csrfField } from '../schemas.js'

export function overviewPage(app: FastifyInstance, cx: ConsoleContext): void {
  app.get<{ Querystring: { notice?: string } }>(
    '',
    {
      schema: {
        querystring: { type: 'object', properties: { notice: { type: 'string', maxLength: 40 } } },
        response: answers(200, 303, 400)
      }
    },
    async (req, reply) => {
      const overview = await buildOverview(cx)
      return cx.render(req, reply, 'overview', { title: 'Overview', nav: 'overview', notice: noticeFor(req.query.notice), ...overview })
    }
  )

  app.post<{ Params: { app: string } }>(
    '/apps/:app/sweep',
    {
      onRequest: requireKnownApp(cx.config),
      schema: {
        params: appParams,
        body: { type: 'object', properties: csrfField },
        response: answers(303, 400, 403, 404, 502)
      }
    },
    async (req, reply) => {
      // The sweeper keeps the result in the ledger; the overview shows it on the app's card.
      await cx.ops.sweep(appFrom(cx.config, req), req.operator, { trigger: 'console' })
      return reply.redirect(cx.paths.to(`?notice=swept#app-${req.params.app}`), 303)
    }
  )
}
