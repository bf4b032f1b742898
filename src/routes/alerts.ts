// GET /alerts: recent alerts, how each channel took them, and which channels are failing — the
// same service function the console's overview calls.
import type { FastifyInstance } from 'fastify'
import { ALERT_SEND_STATUSES } from '../ledger/alert-types.js'
import { requireOperator } from './auth.js'
import type { RouteContext } from './context.js'
import { errorSchema } from './schemas.js'

const iso = (d: Date | null) => (d ? d.toISOString() : null)
const nullableString = { type: ['string', 'null'] } as const

const channelSchema = {
  type: 'object',
  properties: {
    channel: { type: 'string' },
    configured: { type: 'boolean' },
    failing: { type: 'boolean' },
    pending: { type: 'integer' },
    attempts: { type: 'integer' },
    last_error: nullableString,
    last_attempt_at: nullableString,
    next_attempt_at: nullableString,
    last_sent_at: nullableString
  }
} as const

const alertSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    kind: { type: 'string' },
    severity: { type: 'string', enum: ['critical', 'warning', 'info', 'resolved'] },
    title: { type: 'string' },
    created_at: { type: 'string' },
    sends: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          channel: { type: 'string' },
          status: { type: 'string', enum: [...ALERT_SEND_STATUSES] },
          attempts: { type: 'integer' },
          last_error: nullableString,
          sent_at: nullableString
        }
      }
    }
  }
} as const

export async function alertRoutes(app: FastifyInstance, ctx: RouteContext) {
  app.get<{ Querystring: { limit: number } }>(
    '/alerts',
    {
      onRequest: requireOperator(ctx.config.operators),
      schema: {
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } } },
        response: {
          200: { type: 'object', properties: { channels: { type: 'array', items: channelSchema }, alerts: { type: 'array', items: alertSchema } } },
          400: errorSchema,
          401: errorSchema
        }
      }
    },
    async (req) => {
      const o = await ctx.alerts.overview(req.query.limit)
      return {
        channels: o.channels.map((c) => ({
          channel: c.channel,
          configured: c.configured,
          failing: c.failing,
          pending: c.pending,
          attempts: c.attempts,
          last_error: c.lastError,
          last_attempt_at: iso(c.lastAttemptAt),
          next_attempt_at: iso(c.nextAttemptAt),
          last_sent_at: iso(c.lastSentAt)
        })),
        alerts: o.recent.map((a) => ({
          id: a.id,
          kind: a.kind,
          severity: a.severity,
          title: a.title,
          created_at: a.createdAt.toISOString(),
          sends: a.sends.map((s) => ({ channel: s.channel, status: s.status, attempts: s.attempts, last_error: s.lastError, sent_at: iso(s.sentAt) }))
        }))
      }
    }
  )
}
