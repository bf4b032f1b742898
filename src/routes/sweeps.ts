// POST /apps/:app/sweep — queue every ready record of the app; ?wait=true also waits for delivery.
import type { FastifyInstance } from 'fastify'
import { parseDuration } from '../config/duration.js'
import { requireOperator } from './auth.js'
import { appFrom, requireKnownApp, type RouteContext } from './context.js'
import { appParams, clientErrors, errorSchema } from './schemas.js'

const summary = {
  type: 'object',
  properties: {
    app: { type: 'string' },
    found: { type: 'integer' },
    queued: { type: 'integer' },
    duplicates: { type: 'integer' },
    invalid: { type: 'integer' },
    joined: { type: 'boolean' },
    started_at: { type: 'string' },
    finished_at: { type: 'string' },
    settled: { type: 'boolean' },
    outcomes: { type: 'object', additionalProperties: { type: 'integer' } }
  }
} as const

export async function sweepRoutes(app: FastifyInstance, ctx: RouteContext) {
  app.post<{ Params: { app: string }; Querystring: { wait?: boolean; timeout?: string } }>(
    '/apps/:app/sweep',
    {
      onRequest: [requireOperator(ctx.config.operators), requireKnownApp(ctx.config)],
      schema: {
        params: appParams,
        querystring: {
          type: 'object',
          properties: { wait: { type: 'boolean' }, timeout: { type: 'string', pattern: '^[0-9]+(ms|s|m)$' } }
        },
        response: { 200: summary, ...clientErrors, 502: errorSchema }
      }
    },
    async (req) => {
      const result = await ctx.ops.sweep(appFrom(ctx.config, req), req.operator, { trigger: 'http' })
      const answer = {
        app: result.app,
        found: result.found,
        queued: result.queued,
        duplicates: result.duplicates,
        invalid: result.invalid,
        joined: result.joined,
        started_at: result.startedAt,
        finished_at: result.finishedAt
      }
      if (!req.query.wait) return answer
      const timeoutMs = Math.min(parseDuration(req.query.timeout ?? '2m'), 30 * 60_000)
      const waited = await ctx.sweeper.outcomes(result.deliveryIds, timeoutMs)
      return { ...answer, settled: waited.settled, outcomes: waited.outcomes }
    }
  )
}
