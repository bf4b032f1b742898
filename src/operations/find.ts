// Finding deliveries: one page (GET /deliveries, the console's list) or every matching row read
// page by page (the CSV route, `knack311 export`), never the whole result in memory.
import type { DeliveryFilter, LifecycleStore } from '../ledger/lifecycle-types.js'
import type { Delivery } from '../ledger/types.js'
import type { DeliveryQuery } from './input.js'

/** Rows read per query while streaming. */
export const STREAM_PAGE = 500

export interface Finder {
  /** One page, newest first (created_at, then id). */
  list(query: DeliveryQuery): Promise<Delivery[]>
  count(filter: DeliveryFilter): Promise<number>
  /** Every matching row (or the first `limit`), newest first, a page at a time. */
  stream(filter: DeliveryFilter, opts?: { limit?: number | undefined; pageSize?: number }): AsyncGenerator<Delivery>
}

export function createFinder(ledger: Pick<LifecycleStore, 'list' | 'count'>): Finder {
  return {
    list: (query) => ledger.list({ ...query.filter, limit: query.limit, before: query.before }),
    count: (filter) => ledger.count(filter),
    async *stream(filter, opts = {}) {
      const pageSize = opts.pageSize ?? STREAM_PAGE
      let left = opts.limit ?? Number.POSITIVE_INFINITY
      let before: number | undefined
      // Each page starts strictly after the last row of the one before, so this ends; the bound
      // is a guard against a store that does not keep that promise.
      for (let pages = 0; left > 0 && pages < 1_000_000; pages++) {
        const want = Math.min(pageSize, left)
        const rows = await ledger.list({ ...filter, limit: want, before })
        for (const row of rows) yield row
        left -= rows.length
        const last = rows[rows.length - 1]
        if (!last || rows.length < want) return
        before = last.id
      }
    }
  }
}
