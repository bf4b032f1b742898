// The real outbound parts for a Config: the ledger, the Knack client, the ESB client, each wired
// to the metrics. server.ts and the CLI use this; tests and the sandbox may build their own.
import type { Logger } from 'pino'
import { createAlertChannels } from './alerts/channels/create.js'
import { createEsbClient } from './clients/esb/esb-client.js'
import { createKnackClient } from './clients/knack/client.js'
import { createSharedRateLimiter } from './clients/knack/shared-limiter.js'
import type { Config } from './config/types.js'
import { createEvents } from './events/bus.js'
import { openLedger } from './ledger/open.js'
import type { Metrics } from './observability/metrics.js'
import type { AppDeps } from './app.js'

export interface CreateDepsOptions {
  /** How often the ESB client looks at ESB_CERT/ESB_KEY/ESB_CA for replacements (default 5 s). */
  esbCertPollMs?: number | undefined
}

export async function createDeps(config: Config, logger: Logger, metrics: Metrics, opts: CreateDepsOptions = {}): Promise<AppDeps> {
  // One Events for the clients and the app, so what a client announces reaches alerts and metrics.
  const events = createEvents(logger)
  const ledger = await openLedger(config.databaseUrl, { logger })
  // On PostgreSQL every replica takes its Knack grants from the database, so KNACK_RATE_LIMIT is
  // the limit of all of them together; on SQLite (one process) the in-process limiter serves.
  const slots = ledger.rateSlots
  const knack = createKnackClient({
    baseUrl: config.knackApiUrl,
    rateLimit: config.knackRateLimit,
    arrivalSpreadMs: config.knackArrivalSpreadMs,
    limiterFor: slots
      ? (appId, rate) =>
          createSharedRateLimiter({
            slots,
            appId,
            rate,
            arrivalSpreadMs: config.knackArrivalSpreadMs,
            onError: (err) => logger.warn({ appId, err: err instanceof Error ? err.message : String(err) }, 'knack rate slots: store failed; retrying')
          })
      : undefined,
    logger,
    observe: {
      request: (method, route, status, seconds) => metrics.knackRequests.observe({ method, route, status: String(status) }, seconds),
      rateLimited: (appId) => metrics.knackRateLimited.inc({ app_id: appId }),
      limiterWait: (appId, ms) => metrics.knackLimiterWaitSeconds.inc({ app_id: appId }, ms / 1000),
      planRemaining: (appId, n) => metrics.knackPlanRemaining.set({ app_id: appId }, n)
    }
  })
  const esb = createEsbClient({
    endpoint: config.esb.endpoint,
    auth: config.esb.auth,
    cert: config.esb.cert,
    key: config.esb.key,
    ca: config.esb.ca,
    certPath: config.esb.certPath,
    keyPath: config.esb.keyPath,
    caPath: config.esb.caPath,
    certPollMs: opts.esbCertPollMs,
    username: config.esb.username,
    password: config.esb.password,
    timeoutMs: config.esb.timeoutMs,
    logger,
    events,
    observe: { request: (status, seconds) => metrics.esbRequests.observe({ status: String(status) }, seconds) }
  })
  return { ledger, knack, esb, logger, metrics, events, alertChannels: createAlertChannels(config.alerts) }
}
