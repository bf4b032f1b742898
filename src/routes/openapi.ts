// The API description: /openapi.yaml as written, and a docs page (Swagger UI, bundled, offline).
import { readFileSync } from 'node:fs'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { parse } from 'yaml'

export const OPENAPI_PATH = new URL('../../openapi.yaml', import.meta.url)

export async function openapiRoutes(app: FastifyInstance) {
  const text = readFileSync(OPENAPI_PATH, 'utf8')
  await app.register(swagger, { mode: 'static', specification: { document: parse(text) } })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.get('/openapi.yaml', { schema: { hide: true, response: { 200: { type: 'string' } } } }, async (_req, reply) => reply.type('application/yaml').send(text))
}
