// A DeliveryFilter as SQL conditions, for both stores. Values are always bound, never spliced;
// only the dialect's placeholder syntax and its substring function differ.
import type { DeliveryFilter, SrCursor } from './lifecycle-types.js'

export type BindValue = string | number | Date | null

export interface Dialect {
  /** Placeholder for the next bound value. */
  bind(value: BindValue): string
  /** `haystack` holds `needle` (a placeholder), ignoring case. */
  contains(haystack: string, needle: string): string
}

export interface SqliteBinds {
  dialect: Dialect
  params: Record<string, string | number | null>
}

/** SQLite: named parameters; times are epoch-ms integers. lower() folds ASCII only, which is
 *  what error texts hold (the worker's reasons and the partners' messages are ASCII). */
export function sqliteBinds(): SqliteBinds {
  const params: Record<string, string | number | null> = {}
  let n = 0
  return {
    params,
    dialect: {
      bind(value) {
        const name = `p${++n}`
        params[name] = value instanceof Date ? value.getTime() : value
        return `@${name}`
      },
      contains: (haystack, needle) => `instr(lower(${haystack}), lower(${needle})) > 0`
    }
  }
}

export interface PostgresBinds {
  dialect: Dialect
  params: unknown[]
}

export function postgresBinds(): PostgresBinds {
  const params: unknown[] = []
  return {
    params,
    dialect: {
      bind: (value) => `$${params.push(value)}`,
      contains: (haystack, needle) => `strpos(lower(${haystack}), lower(${needle})) > 0`
    }
  }
}

/** Every condition the filter asks for, to be joined with AND. */
export function filterConditions(f: DeliveryFilter, d: Dialect): string[] {
  const where: string[] = []
  if (f.app !== undefined) where.push(`app = ${d.bind(f.app)}`)
  if (typeof f.status === 'string') where.push(`status = ${d.bind(f.status)}`)
  else if (f.status !== undefined) {
    // An empty list matches nothing, as it says.
    where.push(f.status.length === 0 ? '1 = 0' : `status IN (${f.status.map((s) => d.bind(s)).join(', ')})`)
  }
  if (f.srNumber !== undefined) where.push(`sr_number = ${d.bind(f.srNumber)}`)
  if (f.recordId !== undefined) where.push(`record_id = ${d.bind(f.recordId)}`)
  if (f.since !== undefined) where.push(`created_at >= ${d.bind(f.since)}`)
  if (f.until !== undefined) where.push(`created_at < ${d.bind(f.until)}`)
  // Written out so the partial index deliveries_error_created (WHERE last_error IS NOT NULL)
  // applies: only rows holding an error are read, however many sent rows the ledger has.
  if (f.q !== undefined) where.push(`last_error IS NOT NULL AND ${d.contains('last_error', d.bind(f.q))}`)
  return where
}

export const whereClause = (conditions: readonly string[]): string =>
  conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`

/**
 * SQLite's index for a filter, most selective first: a record or an SR has a handful of rows;
 * rows with an error are the few that did not go; a status other than sent/skipped is a small
 * set and sent/skipped are scanned newest first; an app or no filter scans by time. Named
 * explicitly (INDEXED BY) because without ANALYZE statistics SQLite may pick the app index for
 * app+status and read half the table. Every index ends in (created_at, id), the list's order,
 * so a page is an index range read with no sort.
 */
export function sqliteIndexFor(f: DeliveryFilter): string {
  if (f.recordId !== undefined) return 'deliveries_record_created'
  if (f.srNumber !== undefined) return 'deliveries_sr_created'
  if (f.q !== undefined) return 'deliveries_error_created'
  if (f.status !== undefined) return 'deliveries_status_created'
  if (f.app !== undefined) return 'deliveries_app_created'
  return 'deliveries_created'
}

/** Rows after `after` in per-SR order (app, sr_number, atd_activity_id, id). With the app fixed
 *  by the filter the app is left out of the row value: SQLite then seeks (app=? AND (…)>(…))
 *  instead of reading the app's rows from their start. */
export function afterSrCursor(after: SrCursor, appFixed: boolean, d: Dialect): string {
  const rest = `${d.bind(after.srNumber)}, ${d.bind(after.atdActivityId)}, ${d.bind(after.id)}`
  return appFixed
    ? `(sr_number, atd_activity_id, id) > (${rest})`
    : `(app, sr_number, atd_activity_id, id) > (${d.bind(after.app)}, ${rest})`
}
