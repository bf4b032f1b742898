// Liveness, readiness and metrics: public, for load balancers, orchestrators and Prometheus.
import type { FastifyInstance } from 'fastify'
import type { RouteContext } from './context.js'

/** Each check keeps every field it reports (days_to_expiry, warning, apps, ...). */
const readinessSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'unavailable'] },
    checks: { type: 'object', additionalProperties: { type: 'object', additionalProperties: true, properties: { ok: { type: 'boolean' } } } }
  }
} as const

export async function healthRoutes(app: FastifyInstance, ctx: RouteContext) {
  app.get('/healthz', { schema: { response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({
    status: 'ok'
  }))

  app.get('/readyz', { schema: { response: { 200: readinessSchema, 503: readinessSchema } } }, async (_req, reply) => {
    const report = await ctx.readiness()
    return reply.code(report.ok ? 200 : 503).send({ status: report.ok ? 'ok' : 'unavailable', checks: report.checks })
  })

  app.get('/metrics', { schema: { response: { 200: { type: 'string' } } } }, async (_req, reply) => {
    const text = await ctx.metrics.registry.metrics()
    return reply.type(ctx.metrics.registry.contentType).send(text)
  })
}
