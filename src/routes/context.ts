// What the routes are given. Routes stay thin: parse, authorise, call one of these, shape the answer.
import type { FastifyRequest } from 'fastify'
import type { AlertService } from '../alerts/service.js'
import type { KnackClient } from '../clients/knack/types.js'
import type { AppConfig, Config } from '../config/types.js'
import { UnknownApp } from '../errors.js'
import type { Events } from '../events/types.js'
import type { Intake } from '../intake/intake.js'
import type { Sweeper } from '../intake/sweep.js'
import type { Ledger } from '../ledger/types.js'
import type { Metrics } from '../observability/metrics.js'
import type { ReadinessReport } from '../observability/readiness.js'
import type { Operations } from '../operations/operations.js'

export interface RouteContext {
  config: Config
  ledger: Ledger
  knack: KnackClient
  intake: Intake
  sweeper: Sweeper
  metrics: Metrics
  events: Events
  alerts: AlertService
  clock: () => Date
  /** Finding, retrying, replaying, pruning, resending, sweeping: each recorded under req.operator. */
  ops: Operations
  wakeWorker: () => void
  /** Readiness checks beyond the database: app files and the client certificate. */
  readiness: () => Promise<ReadinessReport>
}

export function appFrom(config: Config, req: FastifyRequest): AppConfig {
  const name = (req.params as { app?: string }).app ?? ''
  const app = config.apps.get(name)
  if (!app) throw new UnknownApp(name)
  return app
}

/** onRequest hook: unknown app → 404 before the body is read or validated. */
export function requireKnownApp(config: Config) {
  return async (req: FastifyRequest) => {
    appFrom(config, req)
  }
}
