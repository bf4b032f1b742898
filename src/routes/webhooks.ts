// POST /webhooks/knack/:app — a Knack record (or just its id) from a Flow, Make or Zapier.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { KnackRecord } from '../clients/knack/types.js'
import { RecordInvalid, withDetails } from '../errors.js'
import { isPlainObject, recordShapeProblems } from '../message/record.js'
import { requireWebhookToken } from './auth.js'
import { appFrom, requireKnownApp, type RouteContext } from './context.js'
import { appParams, clientErrors, errorSchema } from './schemas.js'

const accepted = {
  type: 'object',
  properties: { delivery: { type: 'integer' }, status: { type: 'string' }, reason: { type: 'string' } }
} as const

export async function webhookRoutes(app: FastifyInstance, ctx: RouteContext) {
  // This plugin's own JSON parser: JSON.parse keeps `__proto__` as a plain own key (it never sets
  // a prototype), so checkShape can name the key instead of Fastify's generic "not valid JSON".
  app.removeContentTypeParser(['application/json', 'text/plain'])
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string))
    } catch (err) {
      done(Object.assign(new SyntaxError(`Body is not valid JSON: ${(err as Error).message}`), { statusCode: 400 }), undefined)
    }
  })

  app.post<{ Params: { app: string }; Body: KnackRecord }>(
    '/webhooks/knack/:app',
    {
      onRequest: [requireWebhookToken(ctx.config.webhookSecret), requireKnownApp(ctx.config)],
      preValidation: checkShape,
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

/**
 * Before schema validation, which would coerce a boolean or one-element array `id` into a string:
 * `id` must already be text, and no key may be able to pollute a prototype.
 */
async function checkShape(req: FastifyRequest): Promise<void> {
  const body = req.body
  if (!isPlainObject(body)) return // the schema answers "body must be object"
  const problems = recordShapeProblems(body)
  if (Object.hasOwn(body, 'id') && typeof body.id !== 'string') {
    problems.unshift({ field: 'id', message: `must be a string (got ${Array.isArray(body.id) ? 'array' : body.id === null ? 'null' : typeof body.id})` })
  }
  if (problems.length > 0) {
    const summary = problems.map((p) => `${p.field} ${p.message}`).join('; ')
    throw withDetails(new RecordInvalid(`Webhook body is not a valid record: ${summary}`), problems)
  }
}
