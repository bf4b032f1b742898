// The operations people run on the ledger, one module each, composed for the service. The JSON
// routes, the console and the command line call these — one way to do each thing — and each
// records itself in the actions log under the operator who asked.
import type { Logger } from 'pino'
import type { KnackClient } from '../clients/knack/types.js'
import type { AppConfig } from '../config/types.js'
import type { Intake, IntakeOutcome } from '../intake/intake.js'
import type { Sweeper, SweepSummary } from '../intake/sweep.js'
import type { DeliveryFilter, PruneRun } from '../ledger/lifecycle-types.js'
import type { Delivery, Ledger } from '../ledger/types.js'
import { createActionLog, type ActionLog } from './actions.js'
import { createFinder } from './find.js'
import { readDeliveryQuery, readExportQuery, type DeliveryQuery, type Progress, type RawDeliveryQuery } from './input.js'
import { createManualActions, type SweepOptions } from './manual.js'
import { createPruner, type PruneInput, type PruneOptions, type PruneResult, type PruneTuning } from './prune.js'
import { createReplayer, type ReplayInput, type ReplayOptions, type ReplayResult } from './replay.js'
import { createRetrier, type BulkRetryInput, type BulkRetryResult } from './retry.js'
import type { TimeContext } from './times.js'

export interface OperationsDeps {
  apps: ReadonlyMap<string, AppConfig>
  retentionMs: number | null
  ledger: Ledger
  knack: Pick<KnackClient, 'readRecord'>
  intake: Intake
  sweeper: Sweeper
  clock: () => Date
  logger: Logger
  /** New work is queued: the worker should claim now. */
  wake: () => void
  pruneTuning?: PruneTuning
}

export interface Operations {
  /** Times without an offset are read in this zone: the first app's. */
  readonly zone: string
  actions: ActionLog

  /** Raw filters (query string, form, flags) → a checked query; INVALID_INPUT names each bad field. */
  readQuery(raw: RawDeliveryQuery): DeliveryQuery
  readExportQuery(raw: RawDeliveryQuery): { filter: DeliveryFilter; limit: number | undefined }
  find(query: DeliveryQuery): Promise<Delivery[]>
  count(filter: DeliveryFilter): Promise<number>
  stream(filter: DeliveryFilter, opts?: { limit?: number | undefined }): AsyncGenerator<Delivery>

  retry(id: number, operator: string): Promise<Delivery>
  bulkRetry(input: BulkRetryInput, operator: string, opts?: { onProgress?: Progress | undefined }): Promise<BulkRetryResult>
  resend(app: AppConfig, recordId: string, operator: string): Promise<IntakeOutcome>
  sweep(app: AppConfig, operator: string, opts?: SweepOptions): Promise<SweepSummary & { deliveryIds: number[] }>
  replay(app: AppConfig, input: ReplayInput, operator: string, opts?: ReplayOptions): Promise<ReplayResult>
  prune(input: PruneInput, operator: string, opts?: PruneOptions): Promise<PruneResult>
  lastPrune(): Promise<PruneRun | null>
}

export function createOperations(deps: OperationsDeps): Operations {
  const zone = firstZone(deps.apps)
  const timeContext = (): TimeContext => ({ zone, now: deps.clock() })
  const actions = createActionLog({ ledger: deps.ledger, clock: deps.clock, logger: deps.logger })
  const finder = createFinder(deps.ledger)
  const retrier = createRetrier({ ledger: deps.ledger, actions, clock: deps.clock, wake: deps.wake, timeContext })
  const manual = createManualActions({ intake: deps.intake, sweeper: deps.sweeper, actions })
  const replayer = createReplayer({ ledger: deps.ledger, knack: deps.knack, intake: deps.intake, actions, clock: deps.clock })
  const pruner = createPruner({ ledger: deps.ledger, actions, clock: deps.clock, logger: deps.logger, retentionMs: deps.retentionMs, tuning: deps.pruneTuning })
  return {
    zone,
    actions,
    readQuery: (raw) => readDeliveryQuery(raw, timeContext()),
    readExportQuery: (raw) => readExportQuery(raw, timeContext()),
    find: finder.list,
    count: finder.count,
    stream: finder.stream,
    retry: retrier.retry,
    bulkRetry: retrier.bulkRetry,
    resend: manual.resend,
    sweep: manual.sweep,
    // Intake wakes the worker for each delivery it queues.
    replay: replayer.replay,
    prune: pruner.prune,
    lastPrune: pruner.lastPrune
  }
}

/** The contract's zone for times without an offset; UTC only when no app is configured. */
export function firstZone(apps: ReadonlyMap<string, AppConfig>): string {
  return apps.values().next().value?.timezone ?? 'UTC'
}
