// The yardstick for intake: a bare Fastify route on the same path, in its own process like the
// service, that parses the JSON body and answers 202 — no auth, validation, hashing or storage.
import Fastify from 'fastify'

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 })
let n = 0
app.get('/healthz', async () => ({ status: 'ok' }))
app.post('/webhooks/knack/:app', async (_req, reply) => reply.code(202).send({ delivery: ++n, status: 'queued' }))

const close = () => void app.close().then(() => process.exit(0))
process.once('SIGTERM', close)
process.once('SIGINT', close)
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
