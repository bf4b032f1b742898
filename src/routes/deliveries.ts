// The ledger, read-only, plus retry of a failed or dead delivery.
import type { FastifyInstance } from 'fastify'
import { DeliveryNotFound } from '../errors.js'
import { retryDelivery } from '../intake/retry.js'
import { DELIVERY_STATUSES, type DeliveryStatus } from '../ledger/types.js'
import { requireOperator } from './auth.js'
import type { RouteContext } from './context.js'
import { attemptJson, deliveryJson } from './present.js'
import { attemptSchema, clientErrors, deliverySchema, errorSchema, idParams } from './schemas.js'

export async function deliveryRoutes(app: FastifyInstance, ctx: RouteContext) {
  const onRequest = requireOperator(ctx.config.operators)

  app.get<{ Querystring: { app?: string; status?: DeliveryStatus; limit: number } }>(
    '/deliveries',
    {
      onRequest,
      schema: {
        querystring: {
          type: 'object',
          properties: {
            app: { type: 'string', maxLength: 100 },
            status: { type: 'string', enum: [...DELIVERY_STATUSES] },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }
          }
        },
        // No 404: the list is empty when nothing matches.
        response: { 200: { type: 'array', items: deliverySchema }, 400: errorSchema, 401: errorSchema }
      }
    },
    async (req) => {
      const rows = await ctx.ledger.list({ app: req.query.app, status: req.query.status, limit: req.query.limit })
      return rows.map(deliveryJson)
    }
  )

  app.get<{ Params: { id: number } }>(
    '/deliveries/:id',
    {
      onRequest,
      schema: {
        params: idParams,
        response: {
          200: { ...deliverySchema, properties: { ...deliverySchema.properties, history: { type: 'array', items: attemptSchema } } },
          ...clientErrors
        }
      }
    },
    async (req) => {
      const d = await ctx.ledger.get(req.params.id)
      if (!d) throw new DeliveryNotFound(String(req.params.id))
      const history = await ctx.ledger.attempts(d.id)
      return { ...deliveryJson(d), history: history.map(attemptJson) }
    }
  )

  app.post<{ Params: { id: number } }>(
    '/deliveries/:id/retry',
    {
      onRequest,
      schema: {
        params: idParams,
        response: { 202: { type: 'object', properties: { delivery: { type: 'integer' }, status: { type: 'string' } } }, ...clientErrors, 409: errorSchema }
      }
    },
    async (req, reply) => {
      const d = await retryDelivery({ ledger: ctx.ledger, clock: ctx.clock, wake: ctx.wakeWorker }, req.params.id)
      return reply.code(202).send({ delivery: d.id, status: d.status })
    }
  )
}
