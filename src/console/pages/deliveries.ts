// The deliveries list (the filters of GET /deliveries), one delivery, and its retry and resend.
import type { FastifyInstance } from 'fastify'
import { DeliveryNotFound } from '../../errors.js'
import { awaitDelivery } from '../../intake/await-delivery.js'
import { retryDelivery } from '../../intake/retry.js'
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../ledger/types.js'
import { appFrom, requireKnownApp } from '../../routes/context.js'
import { deliveryDetail, deliveryRow } from '../deliveries-view.js'
import { STATUS_MEANING, displayZone } from '../format.js'
import type { ConsoleContext } from '../plugin.js'
import { noticeFor } from '../render.js'
import { answers, csrfField, deliveryIdParams } from '../schemas.js'

/** How long retry and resend wait for the outcome before showing the delivery as it is then. */
const ACTION_WAIT_MS = 10_000
const PAGE_SIZE = 50

interface ListQuery {
  app?: string
  status?: DeliveryStatus | ''
  limit: number
}

export function deliveryPages(app: FastifyInstance, cx: ConsoleContext): void {
  const zone = displayZone(cx.config)
  const appNames = [...cx.config.apps.keys()]

  app.get<{ Querystring: ListQuery }>(
    '/deliveries',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            app: { type: 'string', maxLength: 100 },
            status: { type: 'string', enum: ['', ...DELIVERY_STATUSES] },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: PAGE_SIZE }
          }
        },
        response: answers(200, 303, 400)
      }
    },
    async (req, reply) => {
      const filter = { app: req.query.app || undefined, status: req.query.status || undefined, limit: req.query.limit }
      const rows = await cx.ledger.list(filter)
      const now = cx.clock()
      return cx.render(req, reply, 'deliveries', {
        title: 'Deliveries',
        nav: 'deliveries',
        filter: { app: filter.app ?? '', status: filter.status ?? '', limit: filter.limit },
        apps: appNames,
        statuses: DELIVERY_STATUSES.map((s) => ({ status: s, meaning: STATUS_MEANING[s] })),
        rows: rows.map((d) => deliveryRow(d, cx.paths, now, zone))
      })
    }
  )

  app.get<{ Params: { id: number }; Querystring: { notice?: string } }>(
    '/deliveries/:id',
    {
      schema: {
        params: deliveryIdParams,
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
    { schema: { params: deliveryIdParams, body: { type: 'object', properties: csrfField }, response: answers(303, 400, 403, 404, 409) } },
    async (req, reply) => {
      const d = await retryDelivery({ ledger: cx.ledger, clock: cx.clock, wake: cx.wakeWorker }, req.params.id)
      req.log.info({ operator: req.operator, delivery: d.id }, 'console retry')
      await awaitDelivery(cx.ledger, d.id, ACTION_WAIT_MS)
      return reply.redirect(cx.paths.to(`/deliveries/${d.id}?notice=retried`), 303)
    }
  )

  app.post<{ Params: { app: string; id: string } }>(
    '/apps/:app/records/:id/resend',
    {
      onRequest: requireKnownApp(cx.config),
      schema: {
        params: {
          type: 'object',
          required: ['app', 'id'],
          properties: { app: { type: 'string', maxLength: 100 }, id: { type: 'string', minLength: 1, maxLength: 64 } }
        },
        body: { type: 'object', properties: csrfField },
        response: answers(303, 400, 403, 404, 502)
      }
    },
    async (req, reply) => {
      const result = await cx.intake.resend(appFrom(cx.config, req), req.params.id)
      if (result.status === 'ignored') throw new Error('resend is never ignored')
      req.log.info({ operator: req.operator, delivery: result.delivery.id }, 'console resend')
      await awaitDelivery(cx.ledger, result.delivery.id, ACTION_WAIT_MS)
      return reply.redirect(cx.paths.to(`/deliveries/${result.delivery.id}?notice=resent`), 303)
    }
  )
}
