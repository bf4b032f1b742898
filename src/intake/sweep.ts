// A sweep: every ready record of an app's view, page by page, through intake. A sweep asked for
// while one of the same app runs joins it instead of reading Knack twice.
import type { Logger } from 'pino'
import type { KnackClient } from '../clients/knack/types.js'
import type { AppConfig } from '../config/types.js'
import type { Delivery, DeliveryStatus, Ledger } from '../ledger/types.js'
import type { Metrics } from '../observability/metrics.js'
import type { Intake } from './intake.js'

export type SweepTrigger = 'http' | 'console' | 'schedule' | 'nightly' | 'cli'

export interface SweepSummary {
  app: string
  found: number
  queued: number
  duplicates: number
  /** Records the ready filter returned that failed validation: queued to end dead with a reason. */
  invalid: number
  /** True when this call joined a sweep already running for the app. */
  joined: boolean
  startedAt: string
  finishedAt: string
}

export interface SweepWaitResult {
  /** Deliveries of this sweep by status once the worker settled, or at the deadline. */
  outcomes: Partial<Record<DeliveryStatus, number>>
  /** This sweep's deliveries that are neither sent nor skipped (yet), with their last error. */
  unfinished: Delivery[]
  settled: boolean
}

export interface Sweeper {
  /** `onFound` hears the running count of records read (a progress bar); a joined sweep is silent. */
  sweep(app: AppConfig, trigger: SweepTrigger, onFound?: (found: number) => void): Promise<SweepSummary & { deliveryIds: number[] }>
  /** Wait until the worker has nothing left to do now (or timeoutMs), then count outcomes. */
  outcomes(deliveryIds: number[], timeoutMs: number): Promise<SweepWaitResult>
  running(): string[]
}

export interface SweeperDeps {
  knack: KnackClient
  intake: Intake
  ledger: Ledger
  whenIdle: (timeoutMs: number) => Promise<boolean>
  logger: Logger
  metrics?: Metrics | undefined
}

type Result = SweepSummary & { deliveryIds: number[] }

export function createSweeper(deps: SweeperDeps): Sweeper {
  const inProgress = new Map<string, Promise<Result>>()

  async function run(app: AppConfig, trigger: SweepTrigger, onFound?: (found: number) => void): Promise<Result> {
    const startedAt = new Date().toISOString()
    const log = deps.logger.child({ app: app.name, sweep: trigger })
    const result: Result = {
      app: app.name, found: 0, queued: 0, duplicates: 0, invalid: 0, joined: false,
      startedAt, finishedAt: startedAt, deliveryIds: []
    }
    log.info('sweep started')
    let error: string | null = null
    try {
      for await (const record of deps.knack.readyRecords(app)) {
        result.found++
        onFound?.(result.found)
        const outcome = await deps.intake.swept(app, record)
        if (outcome.status === 'ignored') continue
        result.deliveryIds.push(outcome.delivery.id)
        if (outcome.status === 'duplicate') result.duplicates++
        else if (outcome.valid) result.queued++
        else result.invalid++
      }
      deps.metrics?.sweeps.inc({ app: app.name, trigger, result: 'ok' })
    } catch (err) {
      error = (err as Error).message
      deps.metrics?.sweeps.inc({ app: app.name, trigger, result: 'error' })
      log.error({ err, found: result.found }, 'sweep stopped: Knack read failed')
      throw err
    } finally {
      result.finishedAt = new Date().toISOString()
      await remember(result, trigger, error, log)
    }
    const { deliveryIds: _ids, ...summary } = result
    log.info(summary, 'sweep finished')
    return result
  }

  /** The console's "last sweep": kept in the ledger, so it also shows cron and other replicas' sweeps.
   *  A failure to write it is logged, never the sweep's own failure. */
  async function remember(result: Result, trigger: SweepTrigger, error: string | null, log: Logger): Promise<void> {
    try {
      await deps.ledger.recordSweep({
        app: result.app,
        trigger,
        startedAt: new Date(result.startedAt),
        finishedAt: new Date(result.finishedAt),
        found: result.found,
        queued: result.queued,
        duplicates: result.duplicates,
        invalid: result.invalid,
        error
      })
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not record the sweep for the console')
    }
  }

  return {
    sweep(app, trigger, onFound) {
      const running = inProgress.get(app.name)
      if (running) return running.then((r) => ({ ...r, joined: true }))
      const p = run(app, trigger, onFound).finally(() => inProgress.delete(app.name))
      inProgress.set(app.name, p)
      return p
    },
    async outcomes(deliveryIds, timeoutMs) {
      const settled = await deps.whenIdle(timeoutMs)
      const outcomes: Partial<Record<DeliveryStatus, number>> = {}
      const unfinished: Delivery[] = []
      for (const id of deliveryIds) {
        const d = await deps.ledger.get(id)
        if (!d) continue
        outcomes[d.status] = (outcomes[d.status] ?? 0) + 1
        if (d.status !== 'sent' && d.status !== 'skipped') unfinished.push(d)
      }
      return { outcomes, unfinished, settled }
    },
    running: () => [...inProgress.keys()]
  }
}
