// POST /apps/:app/replay — send again what the ESB accepted in a window, as Knack holds it now.
// The request waits while the records are read from Knack (at its rate limit) and queued; the
// sending happens in the background like any other delivery.
import type { FastifyInstance } from 'fastify'
import type { ReplayInput } from '../operations/replay.js'
import { requireOperator } from './auth.js'
import { noOtherProperties } from './bulk-retry.js'
import { appFrom, requireKnownApp, type RouteContext } from './context.js'
import { appParams, clientErrors, errorSchema } from './schemas.js'

/** Knack reads one request may wait for: about three and a half minutes at 10 requests/s.
 *  A larger window is refused before anything is read; `knack311 replay` has no such bound. */
export const REPLAY_MAX_PER_REQUEST = 2000

export async function replayRoutes(app: FastifyInstance, ctx: RouteContext) {
  app.post<{ Params: { app: string }; Body: ReplayInput }>(
    '/apps/:app/replay',
    {
      onRequest: [requireOperator(ctx.config.operators), requireKnownApp(ctx.config)],
      schema: {
        params: appParams,
        body: {
          type: 'object',
          required: ['since'],
          properties: {
            since: { type: 'string', maxLength: 64 },
            until: { type: 'string', maxLength: 64 },
            sr: { type: 'string', maxLength: 64 },
            dry_run: { type: 'boolean' }
          },
          additionalProperties: noOtherProperties
        },
        response: {
          200: {
            type: 'object',
            required: ['matched', 'queued'],
            properties: {
              app: { type: 'string' },
              since: { type: 'string' },
              until: { type: 'string' },
              sr: { type: ['string', 'null'] },
              dry_run: { type: 'boolean' },
              matched: { type: 'integer' },
              queued: { type: 'integer' },
              duplicates: { type: 'integer' },
              not_found: { type: 'integer' },
              invalid: { type: 'integer' }
            }
          },
          ...clientErrors,
          422: errorSchema,
          502: errorSchema
        }
      }
    },
    async (req) => ctx.ops.replay(appFrom(ctx.config, req), req.body, req.operator, { maxRecords: REPLAY_MAX_PER_REQUEST })
  )
}
