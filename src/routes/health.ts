// Liveness, readiness and metrics: public, for load balancers, orchestrators and Prometheus.
import type { FastifyInstance } from 'fastify'
import type { RouteContext } from './context.js'

export async function healthRoutes(app: FastifyInstance, ctx: RouteContext) {
  app.get('/healthz', { schema: { response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({
    status: 'ok'
  }))

  app.get('/readyz', async (_req, reply) => {
    const report = await ctx.readiness()
    return reply.code(report.ok ? 200 : 503).send({ status: report.ok ? 'ok' : 'unavailable', checks: report.checks })
  })

  app.get('/metrics', async (_req, reply) => {
    const text = await ctx.metrics.registry.metrics()
    return reply.type(ctx.metrics.registry.contentType).send(text)
  })
}
