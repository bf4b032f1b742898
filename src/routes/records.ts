// Resend one record and preview its message: operator actions, admin token required.
import type { FastifyInstance } from 'fastify'
import { parseDuration } from '../config/duration.js'
import { RecordInvalid, withDetails } from '../errors.js'
import { awaitDelivery } from '../intake/await-delivery.js'
import { planRecord } from '../message/preview.js'
import { requireOperator } from './auth.js'
import { appFrom, requireKnownApp, type RouteContext } from './context.js'
import { deliveryJson } from './present.js'
import { clientErrors, deliverySchema, errorSchema, recordParams } from './schemas.js'

const resendAnswer = {
  type: 'object',
  properties: { status: { type: 'string' }, delivery: deliverySchema, error: { type: 'string' }, message: { type: 'string' } }
} as const

export async function recordRoutes(app: FastifyInstance, ctx: RouteContext) {
  const guard = [requireOperator(ctx.config.operators), requireKnownApp(ctx.config)]

  app.post<{ Params: { app: string; id: string }; Querystring: { wait?: string } }>(
    '/apps/:app/records/:id/resend',
    {
      onRequest: guard,
      schema: {
        params: recordParams,
        querystring: { type: 'object', properties: { wait: { type: 'string', pattern: '^[0-9]+(ms|s|m)$' } } },
        response: { 200: resendAnswer, 202: resendAnswer, 502: resendAnswer, ...clientErrors }
      }
    },
    async (req, reply) => {
      const waitMs = Math.min(parseDuration(req.query.wait ?? '30s'), 5 * 60_000)
      const result = await ctx.ops.resend(appFrom(ctx.config, req), req.params.id, req.operator)
      if (result.status === 'ignored') throw new Error('resend is never ignored')
      const d = (await awaitDelivery(ctx.ledger, result.delivery.id, waitMs)) ?? result.delivery
      const delivery = deliveryJson(d)
      if (d.status === 'sent' || d.status === 'skipped') return reply.code(200).send({ status: d.status, delivery })
      if (d.status === 'dead' || d.status === 'failed') {
        return reply.code(502).send({ status: d.status, error: 'delivery_failed', message: d.lastError ?? 'delivery failed', delivery })
      }
      return reply.code(202).send({ status: d.status, delivery })
    }
  )

  app.get<{ Params: { app: string; id: string } }>(
    '/apps/:app/records/:id/preview',
    { onRequest: guard, schema: { params: recordParams, response: { 200: { type: 'string' }, ...clientErrors, 422: errorSchema, 502: errorSchema } } },
    async (req, reply) => {
      const appConfig = appFrom(ctx.config, req)
      const record = await ctx.knack.readRecord(appConfig, req.params.id)
      const plan = planRecord(appConfig, record, ctx.clock())
      if (plan.kind === 'invalid') {
        throw Object.assign(withDetails(new RecordInvalid(`Record ${record.id} is not valid: ${plan.summary}`), plan.problems), { statusCode: 422 })
      }
      if (plan.kind === 'unmapped') throw plan.error
      if (plan.kind === 'skip') {
        return reply.code(422).send({ error: 'not_sent', message: plan.reason, details: [] })
      }
      return reply.code(200).type('application/xml; charset=utf-8').send(plan.xml)
    }
  )
}
