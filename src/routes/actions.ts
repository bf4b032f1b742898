// GET /actions — who did what: retries, bulk retries, resends, replays, sweeps, prunes, logins.
import type { FastifyInstance } from 'fastify'
import type { Action } from '../ledger/lifecycle-types.js'
import { requireOperator } from './auth.js'
import type { RouteContext } from './context.js'
import { errorSchema } from './schemas.js'

const actionSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    at: { type: 'string' },
    operator: { type: 'string' },
    kind: { type: 'string' },
    request: { type: 'object', additionalProperties: true },
    result: { type: 'object', additionalProperties: true }
  }
} as const

export function actionJson(a: Action) {
  return { id: a.id, at: a.at.toISOString(), operator: a.operator, kind: a.kind, request: a.request, result: a.result }
}

export async function actionRoutes(app: FastifyInstance, ctx: RouteContext) {
  app.get<{ Querystring: { limit: number; before?: number } }>(
    '/actions',
    {
      onRequest: requireOperator(ctx.config.operators),
      schema: {
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, before: { type: 'integer', minimum: 1 } }
        },
        response: { 200: { type: 'array', items: actionSchema }, 400: errorSchema, 401: errorSchema }
      }
    },
    async (req) => (await ctx.ops.actions.list({ limit: req.query.limit, before: req.query.before })).map(actionJson)
  )
}
