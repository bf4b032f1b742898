// Prune: sent and skipped deliveries (and their attempts) created longer ago than RETENTION, or
// than `older_than`, are deleted in short batches — each its own transaction, with a pause
// between them, so intake and the worker never wait long for the database — and the space is
// given back to the file system a little after each batch (SQLite with incremental
// auto-vacuum). failed, dead, queued, sending and esb_accepted rows are never touched: the SQL
// names sent and skipped only. The actions log is not pruned.
import type { Logger } from 'pino'
import { InvalidInput, withDetails } from '../errors.js'
import { PRUNABLE_STATUSES, type LifecycleStore, type PruneRun } from '../ledger/lifecycle-types.js'
import { asked, SYSTEM_OPERATOR, type ActionLog } from './actions.js'
import { flag, Problems, span, type Progress, type Raw } from './input.js'

export interface PruneInput {
  /** `90d`; default RETENTION. */
  older_than?: Raw
  dry_run?: Raw
}

export interface PruneResult {
  cutoff: string
  older_than_ms: number
  dry_run: boolean
  /** Eligible rows when it started. */
  matched: number
  deleted: number
  attempts: number
  /** Pages (usually 4 KiB) given back to the file system. */
  reclaimed_pages: number
  /** False when stopped early (shutdown) or by an error. */
  complete: boolean
}

export interface PruneTuning {
  /** Deliveries per transaction (default 500). */
  batch?: number
  /** Wait between batches (default 2 ms): other writers get the database in between. */
  pauseMs?: number
  /** Pages reclaimed after each batch at most (default 1024). */
  reclaimPages?: number
}

export interface PruneDeps {
  ledger: Pick<LifecycleStore, 'countPrunable' | 'pruneBatch' | 'reclaimSpace' | 'recordPrune' | 'lastPrune'>
  actions: ActionLog
  clock: () => Date
  logger: Logger
  /** RETENTION: the default age; null = off. */
  retentionMs: number | null
  tuning?: PruneTuning
}

export interface PruneOptions {
  onProgress?: Progress | undefined
  /** Stops between batches (shutdown); what was deleted stays deleted. */
  signal?: AbortSignal | undefined
}

export interface Pruner {
  prune(input: PruneInput, operator: string, opts?: PruneOptions): Promise<PruneResult>
  lastPrune(): Promise<PruneRun | null>
}

export function createPruner(deps: PruneDeps): Pruner {
  const batch = deps.tuning?.batch ?? 500
  const pauseMs = deps.tuning?.pauseMs ?? 2
  const reclaimPages = deps.tuning?.reclaimPages ?? 1024

  async function run(cutoff: Date, result: PruneResult, opts: PruneOptions): Promise<PruneResult> {
    result.matched = await deps.ledger.countPrunable(cutoff)
    if (result.dry_run || result.matched === 0) {
      result.complete = true
      return result
    }
    opts.onProgress?.({ done: 0, total: result.matched })
    // Rows can become eligible while this runs (an old failed delivery finally sent): the bound
    // leaves room for them; each batch deletes at least one row or ends the loop.
    const maxBatches = Math.ceil(result.matched / batch) * 2 + 10
    let n = 0
    for (const status of PRUNABLE_STATUSES) {
      for (; n < maxBatches && !opts.signal?.aborted; n++) {
        const done = await deps.ledger.pruneBatch(status, cutoff, batch)
        result.deleted += done.deliveries
        result.attempts += done.attempts
        result.reclaimed_pages += await deps.ledger.reclaimSpace(reclaimPages)
        opts.onProgress?.({ done: result.deleted, total: Math.max(result.matched, result.deleted) })
        await new Promise((resolve) => setTimeout(resolve, pauseMs))
        if (done.deliveries < batch) break
      }
    }
    result.complete = n < maxBatches && !opts.signal?.aborted
    // What the last batches freed, up to a bound: pages above it are reused by new rows anyway.
    for (let n = 0; n < 64; n++) {
      const pages = await deps.ledger.reclaimSpace(reclaimPages)
      result.reclaimed_pages += pages
      if (pages < reclaimPages || opts.signal?.aborted) break
    }
    return result
  }

  return {
    lastPrune: () => deps.ledger.lastPrune(),
    async prune(input, operator, opts = {}) {
      const problems = new Problems()
      const olderThan = span(input.older_than, 'older_than', problems) ?? deps.retentionMs
      const dryRun = flag(input.dry_run, 'dry_run', problems)
      problems.throwIfAny()
      if (olderThan === null) {
        const message = 'RETENTION is off: say how old a delivery must be to go (older_than, e.g. 90d)'
        throw withDetails(new InvalidInput(message), [{ field: 'older_than', message }])
      }
      const startedAt = deps.clock()
      const cutoff = new Date(startedAt.getTime() - olderThan)
      const result: PruneResult = {
        cutoff: cutoff.toISOString(), older_than_ms: olderThan, dry_run: dryRun,
        matched: 0, deleted: 0, attempts: 0, reclaimed_pages: 0, complete: false
      }
      if (dryRun) return run(cutoff, result, opts)

      let error: string | null = null
      try {
        await run(cutoff, result, opts)
      } catch (err) {
        error = (err as Error).message
        throw err
      } finally {
        const finishedAt = deps.clock()
        await deps.ledger
          .recordPrune({ startedAt, finishedAt, cutoff, deliveries: result.deleted, attempts: result.attempts, operator, error })
          .catch((err: unknown) => deps.logger.error({ err }, 'could not record the prune'))
        deps.logger.info({ ...result, operator, error, ms: finishedAt.getTime() - startedAt.getTime() }, 'prune finished')
        // The daily prune is recorded as an action only when it did something; an operator's always.
        if (operator !== SYSTEM_OPERATOR || result.deleted > 0 || error !== null) {
          const summary = { matched: result.matched, deleted: result.deleted, attempts: result.attempts, complete: result.complete, cutoff: result.cutoff }
          await deps.actions
            .record({ kind: 'prune', operator, request: { ...asked(input), resolved: { older_than_ms: olderThan } }, result: error ? { ...summary, error } : summary })
            .catch((err: unknown) => deps.logger.error({ err }, 'could not record the prune action'))
        }
      }
      return result
    }
  }
}
