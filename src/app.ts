// buildApp(config, deps): the whole service as a Fastify instance, without listening. Tests, the
// sandbox and production differ only in the deps they pass.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { certificateInUse, type CertificateSource } from './alerts/certificate.js'
import type { AlertChannels } from './alerts/channels/create.js'
import { createAlertService, type AlertOptions, type AlertService } from './alerts/service.js'
import type { EsbClient } from './clients/esb/types.js'
import type { KnackClient } from './clients/knack/types.js'
import type { Config } from './config/types.js'
import { createEvents } from './events/bus.js'
import type { Events } from './events/types.js'
import { createIntake, type Intake } from './intake/intake.js'
import { createSweeper, type Sweeper } from './intake/sweep.js'
import type { Ledger } from './ledger/types.js'
import { createLogger } from './observability/logger.js'
import { createMetrics, type Metrics } from './observability/metrics.js'
import { createReadiness } from './observability/readiness.js'
import { createOperations, type Operations } from './operations/operations.js'
import { createRetention } from './operations/retention.js'
import { createScheduler } from './worker/scheduler.js'
import { consoleRoutes } from './console/plugin.js'
import type { RouteContext } from './routes/context.js'
import { actionRoutes } from './routes/actions.js'
import { bulkRetryRoutes } from './routes/bulk-retry.js'
import { deliveryRoutes } from './routes/deliveries.js'
import { installErrorHandler } from './routes/error-handler.js'
import { healthRoutes } from './routes/health.js'
import { alertRoutes } from './routes/alerts.js'
import { openapiRoutes } from './routes/openapi.js'
import { recordRoutes } from './routes/records.js'
import { replayRoutes } from './routes/replay.js'
import { sweepRoutes } from './routes/sweeps.js'
import { webhookRoutes } from './routes/webhooks.js'
import { createSendGate, type SendGate } from './worker/esb-gate.js'
import { createWorker, type Worker } from './worker/worker.js'

export interface AppDeps {
  ledger: Ledger
  knack: KnackClient
  esb: EsbClient
  clock?: () => Date
  logger?: Logger
  metrics?: Metrics
  /** What the worker and the clients announce; alerts and metrics listen. Made here when absent. */
  events?: Events
  /** false: no background worker (tests that only look at intake). */
  startWorker?: boolean
  /** Where alerts go (createAlertChannels); none when absent: alerts are still recorded. */
  alertChannels?: AlertChannels
  /** The ESB client certificate whose expiry is watched; the one the ESB client presents when absent. */
  certificate?: CertificateSource
  alertOptions?: Partial<AlertOptions>
  /** false: no prune at start-up nor daily (the CLI's one-shot commands). */
  startRetention?: boolean
}

export interface Service {
  events: Events
  worker: Worker
  intake: Intake
  sweeper: Sweeper
  metrics: Metrics
  alerts: AlertService
  /** What operators do to the ledger (find, retry, replay, prune, the actions log…). */
  ops: Operations
  /** Whether sending to the ESB is paused (shared through the ledger). */
  gate: SendGate
}

declare module 'fastify' {
  interface FastifyInstance {
    service: Service
  }
}

/** Webhook bodies are single records: 1 MiB is far above any real one. */
const BODY_LIMIT = 1024 * 1024

export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const clock = deps.clock ?? (() => new Date())
  const logger = deps.logger ?? createLogger({ level: config.logLevel })
  const metrics = deps.metrics ?? createMetrics()
  const events = deps.events ?? createEvents(logger)
  metrics.watchLedger(deps.ledger, clock)

  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; naming the base type keeps FastifyInstance's default generics.
    loggerInstance: logger as FastifyBaseLogger,
    // Off unless TRUST_PROXY names the City's proxy: X-Forwarded-* from anyone else is not believed.
    trustProxy: config.trustProxy,
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true
  })

  const gate = createSendGate({ ledger: deps.ledger, pauseAfter: config.esb.pauseAfter, probeEveryMs: config.esb.probeEveryMs, clock, logger, events, metrics })
  metrics.watchEsbGate(() => gate.current())
  const worker = createWorker(
    { ledger: deps.ledger, knack: deps.knack, esb: deps.esb, gate, apps: config.apps, clock, logger, metrics, events, retryScheduleMs: config.retryScheduleMs, probeEveryMs: config.esb.probeEveryMs, webhookVerify: config.webhookVerify },
    { concurrency: config.workerConcurrency, leaseMs: config.leaseMs }
  )
  const intake = createIntake({ ledger: deps.ledger, knack: deps.knack, clock, wake: worker.wake })
  const sweeper = createSweeper({ knack: deps.knack, intake, ledger: deps.ledger, whenIdle: worker.whenIdle, logger, metrics })
  const scheduler = createScheduler({ apps: config.apps, sweeper, intervalMs: config.sweepIntervalMs, logger })
  const alerts = createAlertService({
    config,
    store: deps.ledger.alerts,
    channels: deps.alertChannels ?? { list: [], close: async () => undefined },
    events,
    clock,
    logger,
    registry: metrics.registry,
    certificate: deps.certificate ?? certificateInUse(deps.esb),
    options: deps.alertOptions,
    ownsAllLeases: config.databaseUrl.startsWith('sqlite:')
  })
  const ops = createOperations({
    apps: config.apps, retentionMs: config.retentionMs, ledger: deps.ledger, knack: deps.knack, intake, sweeper, clock, logger, wake: worker.wake
  })
  const retention = createRetention({ pruner: ops, retentionMs: config.retentionMs, logger })
  app.decorate('service', { events, worker, intake, sweeper, metrics, alerts, gate, ops })
  app.decorateRequest('operator', '')

  const ctx: RouteContext = {
    config, ledger: deps.ledger, knack: deps.knack, intake, sweeper, metrics, events, alerts, clock, ops,
    wakeWorker: worker.wake,
    readiness: createReadiness({ config, ledger: deps.ledger, clock, metrics, esb: deps.esb, gate })
  }
  installErrorHandler(app)
  await app.register(healthRoutes, ctx)
  await app.register(openapiRoutes)
  await app.register(webhookRoutes, ctx)
  await app.register(recordRoutes, ctx)
  await app.register(sweepRoutes, ctx)
  await app.register(deliveryRoutes, ctx)
  await app.register(alertRoutes, ctx)
  await app.register(bulkRetryRoutes, ctx)
  await app.register(replayRoutes, ctx)
  await app.register(actionRoutes, ctx)
  await app.register(consoleRoutes, { ...ctx, prefix: '/console' })

  app.addHook('onReady', async () => {
    // A single-process SQLite store owns every lease: rows a crash left 'sending' resume now.
    if (config.databaseUrl.startsWith('sqlite:')) {
      const released = await deps.ledger.releaseForeignLeases(worker.owner)
      if (released > 0) logger.warn({ released }, 'resuming deliveries left in flight by an earlier process')
    }
    if (deps.startWorker !== false) worker.start()
    scheduler.start()
    alerts.start()
    // In the background: a first prune of a big ledger must not hold up start-up.
    if (deps.startRetention !== false) retention.start()
  })
  app.addHook('onClose', async () => {
    await retention.stop()
    await scheduler.stop()
    await worker.stop(SHUTDOWN_GRACE_MS)
    // After the worker: what it announced while stopping is written (and, briefly, sent).
    await alerts.stop(ALERTS_GRACE_MS)
    await Promise.allSettled([deps.knack.close(), deps.esb.close()])
    await deps.ledger.close()
  })
  return app
}

/** In-flight deliveries get this long to finish on shutdown; leases cover the rest. */
const SHUTDOWN_GRACE_MS = 10_000
/** Alerts being written or sent get this long; the outbox keeps the rest for the next start. */
const ALERTS_GRACE_MS = 5000
