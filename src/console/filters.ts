// The filters of GET /deliveries as a console form: the values as typed (shown back in the form)
// and the links that keep them (paging, bulk retry). Parsing and checking is the operations'
// readQuery, the same as for the JSON route and the CLI.
import { DELIVERY_STATUSES, type DeliveryStatus } from '../ledger/types.js'
import { RETRYABLE } from '../operations/retry.js'
import { STATUS_MEANING } from './format.js'

export const FILTER_FIELDS = ['app', 'status', 'sr', 'record', 'since', 'until', 'q'] as const
export type FilterField = (typeof FILTER_FIELDS)[number]
export type TypedFilter = Record<FilterField, string>

/** Every filter a query string or a form may carry, as text; undefined when not given. */
export type RawFilter = Partial<Record<FilterField, string>>

/** The querystring (or form body) schema for the filter fields: text only, readQuery checks the rest. */
export const filterProperties = Object.fromEntries(FILTER_FIELDS.map((f) => [f, { type: 'string', maxLength: f === 'q' ? 200 : 100 }])) as Record<
  FilterField,
  { type: 'string'; maxLength: number }
>

export function typedFilter(raw: RawFilter): TypedFilter {
  return Object.fromEntries(FILTER_FIELDS.map((f) => [f, (raw[f] ?? '').trim()])) as TypedFilter
}

/** `app=x&status=dead` with the non-empty filters, plus `extra`. */
export function filterQuery(f: TypedFilter, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams()
  for (const k of FILTER_FIELDS) if (f[k] !== '') q.set(k, f[k])
  for (const [k, v] of Object.entries(extra)) q.set(k, v)
  return q.toString()
}

export interface StatusOption {
  status: DeliveryStatus
  meaning: string
}

export function statusOptions(statuses: readonly DeliveryStatus[] = DELIVERY_STATUSES): StatusOption[] {
  return statuses.map((status) => ({ status, meaning: STATUS_MEANING[status] }))
}

/** The hidden fields that carry a filter from the count page to its confirmation. */
export function hiddenFields(f: TypedFilter): Array<{ name: string; value: string }> {
  return FILTER_FIELDS.filter((k) => f[k] !== '').map((k) => ({ name: k, value: f[k] }))
}

/** A filter for bulk retry from the list's: a failed or dead status is kept, any other dropped. */
export function retryFilter(f: TypedFilter): TypedFilter {
  return { ...f, status: RETRYABLE.includes(f.status as DeliveryStatus) ? f.status : '' }
}

/** The fields a refusal names, for aria-invalid on them. */
export function invalidFields(problems: ReadonlyArray<{ field?: string | undefined }>): Record<string, boolean> {
  return Object.fromEntries(problems.filter((p) => p.field !== undefined).map((p) => [p.field, true]))
}
