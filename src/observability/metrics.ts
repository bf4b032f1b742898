// Prometheus metrics for one app instance. Each buildApp gets its own registry so tests and
// several instances in one process never share counters.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { DELIVERY_STATUSES, type EsbGate, type Ledger } from '../ledger/types.js'

export interface Metrics {
  registry: Registry
  deliveries: Counter<'app' | 'outcome'>
  esbRequests: Histogram<'status'>
  knackRequests: Histogram<'method' | 'route' | 'status'>
  knackRateLimited: Counter<'app_id'>
  knackLimiterWaitSeconds: Counter<'app_id'>
  knackPlanRemaining: Gauge<'app_id'>
  certDaysToExpiry: Gauge<'cert'>
  sweeps: Counter<'app' | 'trigger' | 'result'>
  /** Pauses of sending to the ESB this process started, by cause (endpoint, record, credentials). */
  esbPauses: Counter<'cause'>
  /** Reads the shared ESB gate at scrape time for knack311_esb_paused. */
  watchEsbGate(read: () => Promise<EsbGate>): void
  /** Reads queue depth and the oldest undelivered age from the ledger at scrape time. */
  watchLedger(ledger: Ledger, now: () => Date): void
  /** Runs `refresh` (which sets certDaysToExpiry) at every scrape, so the gauge never waits for /readyz. */
  watchCertificate(refresh: () => Promise<unknown>): void
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry()
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'knack311_' })
  const registers = [registry]
  let refreshCertificate: (() => Promise<unknown>) | undefined

  const metrics: Metrics = {
    registry,
    deliveries: new Counter({
      name: 'knack311_deliveries_total',
      help: 'Deliveries that reached an outcome, by app and outcome',
      labelNames: ['app', 'outcome'],
      registers
    }),
    esbRequests: new Histogram({
      name: 'knack311_esb_request_duration_seconds',
      help: 'ESB POST durations by HTTP status (or error kind)',
      labelNames: ['status'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers
    }),
    knackRequests: new Histogram({
      name: 'knack311_knack_request_duration_seconds',
      help: 'Knack API request durations by method, route and HTTP status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers
    }),
    knackRateLimited: new Counter({
      name: 'knack311_knack_rate_limited_total',
      help: '429 answers from Knack (waited out, not failures)',
      labelNames: ['app_id'],
      registers
    }),
    knackLimiterWaitSeconds: new Counter({
      name: 'knack311_knack_limiter_wait_seconds_total',
      help: 'Time requests waited in the local Knack rate limiter',
      labelNames: ['app_id'],
      registers
    }),
    knackPlanRemaining: new Gauge({
      name: 'knack311_knack_plan_calls_remaining',
      help: 'Knack daily plan calls remaining (X-PlanLimit-Remaining)',
      labelNames: ['app_id'],
      registers
    }),
    certDaysToExpiry: new Gauge({
      name: 'knack311_certificate_days_to_expiry',
      help: 'Days until the ESB client certificate expires',
      labelNames: ['cert'],
      registers,
      async collect() {
        await refreshCertificate?.()
      }
    }),
    sweeps: new Counter({
      name: 'knack311_sweeps_total',
      help: 'Sweeps run, by app, trigger (http, schedule, nightly, cli) and result',
      labelNames: ['app', 'trigger', 'result'],
      registers
    }),
    esbPauses: new Counter({
      name: 'knack311_esb_pauses_total',
      help: 'Times sending to the ESB paused (this process made the change), by cause',
      labelNames: ['cause'],
      registers
    }),
    watchEsbGate(read) {
      new Gauge({
        name: 'knack311_esb_paused',
        help: 'Sending to the ESB: 1 paused (one probe per ESB_PROBE_EVERY), 0 ok; shared by every replica',
        registers,
        async collect() {
          this.set((await read()).state === 'paused' ? 1 : 0)
        }
      })
    },
    watchCertificate(refresh) {
      refreshCertificate = refresh
    },
    watchLedger(ledger, now) {
      new Gauge({
        name: 'knack311_queue_depth',
        help: 'Deliveries in the ledger by status',
        labelNames: ['status'],
        registers,
        async collect() {
          const counts = await ledger.countByStatus()
          for (const status of DELIVERY_STATUSES) this.set({ status }, counts[status] ?? 0)
        }
      })
      // The last prune, from the ledger (so on PostgreSQL whichever replica ran it).
      new Gauge({
        name: 'knack311_prune_last_run_timestamp_seconds',
        help: 'When the last prune of sent/skipped deliveries finished (0 before the first)',
        registers,
        async collect() {
          const last = await ledger.lastPrune()
          this.set(last ? last.finishedAt.getTime() / 1000 : 0)
        }
      })
      new Gauge({
        name: 'knack311_prune_last_deleted',
        help: 'Rows the last prune deleted, by table (deliveries, attempts)',
        labelNames: ['table'],
        registers,
        async collect() {
          const last = await ledger.lastPrune()
          this.set({ table: 'deliveries' }, last?.deliveries ?? 0)
          this.set({ table: 'attempts' }, last?.attempts ?? 0)
        }
      })
      new Gauge({
        name: 'knack311_oldest_undelivered_age_seconds',
        help: 'Age of the oldest delivery not yet sent, skipped or dead (0 when none)',
        registers,
        async collect() {
          const oldest = await ledger.oldestPending()
          this.set(oldest ? Math.max(0, (now().getTime() - oldest.getTime()) / 1000) : 0)
        }
      })
    }
  }
  return metrics
}
