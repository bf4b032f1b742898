// POST /deliveries/retry — every failed/dead delivery matching a filter back in the queue, or
// with dry_run only their count.
import type { FastifyInstance } from 'fastify'
import type { BulkRetryInput } from '../operations/retry.js'
import { requireOperator } from './auth.js'
import type { RouteContext } from './context.js'
import { errorSchema } from './schemas.js'

/** A property the schema does not name is refused, not silently dropped: a misspelt filter
 *  must never widen a bulk action to everything. */
export const noOtherProperties = { not: {} } as const

export async function bulkRetryRoutes(app: FastifyInstance, ctx: RouteContext) {
  app.post<{ Body: BulkRetryInput }>(
    '/deliveries/retry',
    {
      onRequest: requireOperator(ctx.config.operators),
      schema: {
        body: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: ['failed', 'dead'] },
            app: { type: 'string', maxLength: 100 },
            sr: { type: 'string', maxLength: 64 },
            record: { type: 'string', maxLength: 64 },
            since: { type: 'string', maxLength: 64 },
            until: { type: 'string', maxLength: 64 },
            q: { type: 'string', maxLength: 200 },
            dry_run: { type: 'boolean' }
          },
          additionalProperties: noOtherProperties
        },
        response: {
          200: {
            type: 'object',
            required: ['matched', 'queued'],
            properties: { matched: { type: 'integer' }, queued: { type: 'integer' }, dry_run: { type: 'boolean' } }
          },
          400: errorSchema,
          401: errorSchema
        }
      }
    },
    async (req) => ctx.ops.bulkRetry(req.body, req.operator)
  )
}
