// Retry: one failed or dead delivery, or every one matching a filter. A delivery the ESB already
// accepted goes back to esb_accepted (only its Knack update is repeated), the rest to queued.
// Bulk retry counts first, then requeues in short batches in per-SR order, so an SR's earlier
// delivery is back in the queue no later than its later ones and the worker keeps their order.
import { DeliveryNotFound, NotRetryable } from '../errors.js'
import type { DeliveryFilter, LifecycleStore, SrCursor } from '../ledger/lifecycle-types.js'
import type { Delivery, DeliveryStatus, Ledger } from '../ledger/types.js'
import { asked, resolvedTimes, type ActionLog } from './actions.js'
import { flag, Problems, readFilter, type Progress, type RawDeliveryQuery } from './input.js'
import type { TimeContext } from './times.js'

export const RETRYABLE: readonly DeliveryStatus[] = ['failed', 'dead']
/** Rows requeued per transaction. */
export const RETRY_BATCH = 200

export interface BulkRetryInput extends Omit<RawDeliveryQuery, 'limit' | 'before'> {
  dry_run?: boolean | string | undefined
}

export interface BulkRetryResult {
  matched: number
  queued: number
  dry_run: boolean
}

export interface RetryDeps {
  ledger: Pick<Ledger, 'get' | 'requeue'> & Pick<LifecycleStore, 'count' | 'requeueMatching'>
  actions: ActionLog
  clock: () => Date
  wake: () => void
  timeContext: () => TimeContext
}

export interface Retrier {
  /** Queue one failed/dead delivery again; DELIVERY_NOT_FOUND or NOT_RETRYABLE otherwise. */
  retry(id: number, operator: string): Promise<Delivery>
  bulkRetry(input: BulkRetryInput, operator: string, opts?: { onProgress?: Progress | undefined }): Promise<BulkRetryResult>
}

export function createRetrier(deps: RetryDeps): Retrier {
  async function retry(id: number): Promise<Delivery> {
    const d = await deps.ledger.get(id)
    if (!d) throw new DeliveryNotFound(String(id))
    if (!(await deps.ledger.requeue(d.id, deps.clock()))) throw new NotRetryable(String(d.id), d.status)
    deps.wake()
    return (await deps.ledger.get(d.id)) ?? d
  }

  async function bulk(filter: DeliveryFilter, dryRun: boolean, onProgress?: Progress): Promise<BulkRetryResult> {
    const matched = await deps.ledger.count({ ...filter, status: filter.status ?? RETRYABLE })
    if (dryRun || matched === 0) return { matched, queued: 0, dry_run: dryRun }
    let queued = 0
    let after: SrCursor | null = null
    // The cursor only moves forward in per-SR order, so a row that fails again while this runs
    // is not requeued twice by one call. The bound leaves room for rows that failed after the count.
    for (let batches = 0; batches < Math.ceil(matched / RETRY_BATCH) * 2 + 10; batches++) {
      const batch = await deps.ledger.requeueMatching(filter, after, RETRY_BATCH, deps.clock())
      queued += batch.requeued.length
      if (batch.requeued.length > 0) deps.wake()
      onProgress?.({ done: queued, total: matched })
      if (!batch.next) break
      after = batch.next
    }
    return { matched, queued, dry_run: false }
  }

  return {
    retry(id, operator) {
      return deps.actions.around({ kind: 'retry', operator, request: { delivery: id } }, () => retry(id), (d) => ({ delivery: d.id, status: d.status }))
    },
    async bulkRetry(input, operator, opts = {}) {
      const problems = new Problems()
      const filter = readFilter(input, problems, deps.timeContext(), RETRYABLE)
      const dryRun = flag(input.dry_run, 'dry_run', problems)
      problems.throwIfAny()
      const request = { ...asked(input), resolved: resolvedTimes(filter) }
      // A dry run changes nothing: it is a question, not an action, and is not recorded.
      if (dryRun) return bulk(filter, true)
      return deps.actions.around({ kind: 'bulk_retry', operator, request }, () => bulk(filter, false, opts.onProgress), (r) => ({ matched: r.matched, queued: r.queued }))
    }
  }
}
