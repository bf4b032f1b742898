// The service as src/server.ts builds it, from the compiled build (KNACK311_DIST), but with the
// background worker off when BENCH_WORKER=off: the memory bench queues 100,000 deliveries with
// nothing draining them. Plain JavaScript so that no tsx loader thread inflates the RSS.
/* global process */
const dist = process.env.KNACK311_DIST
if (!dist) throw new Error('KNACK311_DIST is not set')
const { loadConfig } = await import(`${dist}/config/load.js`)
const { createDeps } = await import(`${dist}/deps.js`)
const { buildApp } = await import(`${dist}/app.js`)
const { createLogger } = await import(`${dist}/observability/logger.js`)
const { createMetrics } = await import(`${dist}/observability/metrics.js`)

const config = loadConfig(process.env)
const logger = createLogger({ level: config.logLevel })
const metrics = createMetrics()
const deps = await createDeps(config, logger, metrics)
const app = await buildApp(config, { ...deps, startWorker: process.env.BENCH_WORKER !== 'off' })
const close = () => void app.close().then(() => process.exit(0))
process.once('SIGTERM', close)
process.once('SIGINT', close)
await app.listen({ port: config.port, host: config.host })
