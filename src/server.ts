// The service process: read config, make the real deps, listen, shut down gracefully.
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import type { Config } from './config/types.js'
import { createDeps } from './deps.js'
import { createLogger } from './observability/logger.js'
import { createMetrics } from './observability/metrics.js'

export async function serve(config: Config): Promise<void> {
  const logger = createLogger({ level: config.logLevel })
  const metrics = createMetrics()
  const app = await buildApp(config, await createDeps(config, logger, metrics))
  // SIGTERM/SIGINT: stop taking requests, let in-flight deliveries finish (bounded), close the store.
  closeWithGrace({ delay: 20_000, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error')
    else logger.info({ signal }, 'shutting down')
    await app.close()
  })
  await app.listen({ port: config.port, host: config.host })
}
