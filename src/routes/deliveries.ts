// The ledger: find deliveries (JSON pages or a CSV stream), one delivery with its history, and
// retry of one failed or dead delivery. Filters are read by the operations layer, so the console
// and the command line take exactly the same ones.
import type { FastifyInstance } from 'fastify'
import { DeliveryNotFound } from '../errors.js'
import { DELIVERY_STATUSES } from '../ledger/types.js'
import type { RawDeliveryQuery } from '../operations/input.js'
import { requireOperator } from './auth.js'
import type { RouteContext } from './context.js'
import { deliveriesCsv } from './csv.js'
import { attemptJson, deliveryJson } from './present.js'
import { attemptSchema, clientErrors, deliverySchema, errorSchema, idParams } from './schemas.js'

const filterProperties = {
  app: { type: 'string', maxLength: 100 },
  status: { type: 'string', enum: [...DELIVERY_STATUSES] },
  sr: { type: 'string', maxLength: 64 },
  record: { type: 'string', maxLength: 64 },
  since: { type: 'string', maxLength: 64 },
  until: { type: 'string', maxLength: 64 },
  q: { type: 'string', maxLength: 200 }
} as const

export async function deliveryRoutes(app: FastifyInstance, ctx: RouteContext) {
  const onRequest = requireOperator(ctx.config.operators)

  app.get<{ Querystring: RawDeliveryQuery }>(
    '/deliveries',
    {
      onRequest,
      schema: {
        querystring: {
          type: 'object',
          properties: {
            ...filterProperties,
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            before: { type: 'integer', minimum: 1 }
          }
        },
        // No 404: the list is empty when nothing matches.
        response: { 200: { type: 'array', items: deliverySchema }, 400: errorSchema, 401: errorSchema }
      }
    },
    async (req) => (await ctx.ops.find(ctx.ops.readQuery(req.query))).map(deliveryJson)
  )

  app.get<{ Querystring: RawDeliveryQuery }>(
    '/deliveries.csv',
    {
      onRequest,
      schema: {
        querystring: { type: 'object', properties: { ...filterProperties, limit: { type: 'integer', minimum: 1 } } },
        response: { 200: { type: 'string' }, 400: errorSchema, 401: errorSchema }
      }
    },
    async (req, reply) => {
      const { filter, limit } = ctx.ops.readExportQuery(req.query)
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="deliveries.csv"')
        .send(deliveriesCsv(ctx.ops.stream(filter, { limit })))
    }
  )

  app.get<{ Params: { id: number } }>(
    '/deliveries/:id',
    {
      onRequest,
      schema: {
        params: idParams,
        response: {
          200: {
            ...deliverySchema,
            properties: { ...deliverySchema.properties, xml_sent: { type: ['string', 'null'] }, history: { type: 'array', items: attemptSchema } }
          },
          ...clientErrors
        }
      }
    },
    async (req) => {
      const d = await ctx.ledger.get(req.params.id)
      if (!d) throw new DeliveryNotFound(String(req.params.id))
      const history = await ctx.ledger.attempts(d.id)
      // The message itself only here, not in list rows or the CSV: a row is a line, this is a page.
      return { ...deliveryJson(d), xml_sent: d.esbRequest, history: history.map(attemptJson) }
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
      const d = await ctx.ops.retry(req.params.id, req.operator)
      return reply.code(202).send({ delivery: d.id, status: d.status })
    }
  )
}
