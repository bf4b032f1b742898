// The deliveries list (the filters of GET /deliveries), one delivery, and its retry and resend.
import type { FastifyInstance } from 'fastify'
import { DeliveryNotFound } from '../../errors.js'
import { awaitDelivery } from '../../intake/await-delivery.js'
import { appFrom, requireKnownApp } from '../../routes/context.js'
import { deliveryDetail, deliveryRow, type DeliveryRow } from '../deliveries-view.js'
import { filterProperties, filterQuery, invalidFields, retryFilter, statusOptions, typedFilter, type RawFilter } from '../filters.js'
import { displayZone } from '../format.js'
import type { ConsoleContext } from '../plugin.js'
import { noticeFor } from '../render.js'
import { idParams, recordParams } from '../../routes/schemas.js'
import { answers, csrfField } from '../schemas.js'

/** How long retry and resend wait for the outcome before showing the delivery as it is then. */
const ACTION_WAIT_MS = 10_000
const PAGE_SIZE = 50

export function deliveryPages(app: FastifyInstance, cx: ConsoleContext): void {
  const zone = displayZone(cx.config)
  const appNames = [...cx.config.apps.keys()]

  app.get<{ Querystring: RawFilter & { limit?: string; before?: string } }>(
    '/deliveries',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { ...filterProperties, limit: { type: 'string', maxLength: 10 }, before: { type: 'string', maxLength: 20 } }
        },
        response: answers(200, 303, 400)
      }
    },
    async (req, reply) => {
      const typed = typedFilter(req.query)
      const limitText = (req.query.limit ?? '').trim()
      const page = {
        title: 'Deliveries',
        nav: 'deliveries' as const,
        filter: typed,
        limit: limitText === '' ? String(PAGE_SIZE) : limitText,
        apps: appNames,
        statuses: statusOptions(),
        anyStatus: 'any status',
        zone,
        problems: [] as Array<{ field?: string | undefined; message: string }>,
        invalid: {} as Record<string, boolean>,
        rows: [] as DeliveryRow[],
        newerHref: null as string | null,
        olderHref: null as string | null,
        bulkHref: cx.paths.to(`/retry?${filterQuery(retryFilter(typed))}`)
      }
      let query
      try {
        query = cx.ops.readQuery({ ...typed, limit: limitText === '' ? PAGE_SIZE : limitText, before: req.query.before })
      } catch (err) {
        if ((err as { code?: string }).code !== 'INVALID_INPUT') throw err
        const problems = (err as { details?: typeof page.problems }).details ?? []
        return cx.render(req, reply, 'deliveries', { ...page, problems, invalid: invalidFields(problems) }, 400)
      }
      // One more than the page: whether there is an older page to link to.
      const rows = await cx.ops.find({ ...query, limit: query.limit + 1 })
      const now = cx.clock()
      const shown = rows.slice(0, query.limit)
      const last = shown[shown.length - 1]
      const limitParam: Record<string, string> = limitText === '' ? {} : { limit: limitText }
      return cx.render(req, reply, 'deliveries', {
        ...page,
        rows: shown.map((d) => deliveryRow(d, cx.paths, now, zone)),
        olderHref: rows.length > query.limit && last ? cx.paths.to(`/deliveries?${filterQuery(typed, { ...limitParam, before: String(last.id) })}`) : null,
        newerHref: query.before !== undefined ? cx.paths.to(`/deliveries?${filterQuery(typed, limitParam)}`) : null
      })
    }
  )

  app.get<{ Params: { id: number }; Querystring: { notice?: string } }>(
    '/deliveries/:id',
    {
      schema: {
        params: idParams,
        querystring: { type: 'object', properties: { notice: { type: 'string', maxLength: 40 } } },
        response: answers(200, 303, 400, 404)
      }
    },
    async (req, reply) => {
      const d = await cx.ledger.get(req.params.id)
      if (!d) throw new DeliveryNotFound(String(req.params.id))
      const detail = deliveryDetail(d, await cx.ledger.attempts(d.id), cx.config.apps.get(d.app), cx.paths, cx.clock(), zone)
      return cx.render(req, reply, 'delivery', { title: `Delivery ${d.id}`, nav: 'deliveries', notice: noticeFor(req.query.notice), d: detail })
    }
  )

  app.post<{ Params: { id: number } }>(
    '/deliveries/:id/retry',
    { schema: { params: idParams, body: { type: 'object', properties: csrfField }, response: answers(303, 400, 403, 404, 409) } },
    async (req, reply) => {
      const d = await cx.ops.retry(req.params.id, req.operator)
      await awaitDelivery(cx.ledger, d.id, ACTION_WAIT_MS)
      return reply.redirect(cx.paths.to(`/deliveries/${d.id}?notice=retried`), 303)
    }
  )

  app.post<{ Params: { app: string; id: string } }>(
    '/apps/:app/records/:id/resend',
    {
      onRequest: requireKnownApp(cx.config),
      schema: {
        params: recordParams,
        body: { type: 'object', properties: csrfField },
        response: answers(303, 400, 403, 404, 502)
      }
    },
    async (req, reply) => {
      const result = await cx.ops.resend(appFrom(cx.config, req), req.params.id, req.operator)
      if (result.status === 'ignored') throw new Error('resend is never ignored')
      await awaitDelivery(cx.ledger, result.delivery.id, ACTION_WAIT_MS)
      return reply.redirect(cx.paths.to(`/deliveries/${result.delivery.id}?notice=resent`), 303)
    }
  )
}
