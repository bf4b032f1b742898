// POST /webhooks/knack/:app — a Knack record (or just its id) from a Flow, Make or Zapier.
import type { FastifyInstance } from 'fastify'
import type { KnackRecord } from '../clients/knack/types.js'
import { requireWebhookToken } from './auth.js'
import { appFrom, requireKnownApp, type RouteContext } from './context.js'
import { appParams, clientErrors, errorSchema } from './schemas.js'

const accepted = {
  type: 'object',
  properties: { delivery: { type: 'integer' }, status: { type: 'string' }, reason: { type: 'string' } }
} as const

export async function webhookRoutes(app: FastifyInstance, ctx: RouteContext) {
  app.post<{ Params: { app: string }; Body: KnackRecord }>(
    '/webhooks/knack/:app',
    {
      onRequest: [requireWebhookToken(ctx.config.webhookSecret), requireKnownApp(ctx.config)],
      schema: {
        params: appParams,
        body: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' } }
        },
        response: { 200: accepted, 202: accepted, ...clientErrors, 413: errorSchema, 415: errorSchema, 502: errorSchema }
      }
    },
    async (req, reply) => {
      const result = await ctx.intake.webhook(appFrom(ctx.config, req), req.body)
      if (result.status === 'ignored') return reply.code(200).send({ status: 'ignored', reason: result.reason })
      if (result.status === 'duplicate') return reply.code(200).send({ status: 'duplicate', delivery: result.delivery.id })
      return reply.code(202).send({ delivery: result.delivery.id, status: 'queued' })
    }
  )
}
