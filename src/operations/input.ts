// What operators type — query strings, form fields, command-line flags — turned into filters.
// The JSON routes, the console and the CLI all hand their raw values here, so a filter means the
// same everywhere and a bad one gets the same 400 naming every field that is wrong.
import { parseSpan } from '../config/duration.js'
import { InvalidInput, withDetails, type ErrorDetail } from '../errors.js'
import type { DeliveryFilter } from '../ledger/lifecycle-types.js'
import { DELIVERY_STATUSES, type DeliveryStatus } from '../ledger/types.js'
import { parseTime, type TimeContext } from './times.js'

/** A value as a query string, a form or a JSON body gives it. */
export type Raw = string | number | boolean | null | undefined

/** How far a long operation has got (a CLI progress bar listens). */
export type Progress = (p: { done: number; total: number }) => void

/** The filters of GET /deliveries, as typed (the JSON schema has already coerced numbers). */
export interface RawDeliveryQuery {
  app?: Raw
  status?: Raw
  sr?: Raw
  record?: Raw
  since?: Raw
  until?: Raw
  q?: Raw
  limit?: Raw
  before?: Raw
}

export interface DeliveryQuery {
  filter: DeliveryFilter
  limit: number
  before?: number | undefined
}

export const MAX_PAGE = 1000
export const DEFAULT_PAGE = 100
const MAX_TEXT = 200

/** Collects every problem, then throws them together. */
export class Problems {
  private readonly list: ErrorDetail[] = []
  add(field: string, message: string): void {
    this.list.push({ field, message })
  }
  /** Run `read`; a thrown Error becomes a problem on `field`. */
  read<T>(field: string, read: () => T): T | undefined {
    try {
      return read()
    } catch (err) {
      this.add(field, (err as Error).message)
      return undefined
    }
  }
  throwIfAny(): void {
    if (this.list.length === 0) return
    const summary = this.list.map((p) => `${p.field}: ${p.message}`).join('; ')
    throw withDetails(new InvalidInput(summary), this.list)
  }
}

/** A text value, trimmed; '' and absent are both "not given". */
export function text(raw: Raw, field: string, problems: Problems, max = MAX_TEXT): string | undefined {
  if (raw === undefined || raw === null) return undefined
  const s = String(raw).trim()
  if (s === '') return undefined
  if (s.length > max) {
    problems.add(field, `is longer than ${max} characters`)
    return undefined
  }
  return s
}

export function wholeNumber(raw: Raw, field: string, problems: Problems, min: number, max: number): number | undefined {
  if (raw === undefined || raw === null || String(raw).trim() === '') return undefined
  const n = typeof raw === 'number' ? raw : /^\d+$/.test(String(raw).trim()) ? Number(String(raw).trim()) : NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    problems.add(field, `must be a whole number from ${min} to ${max}`)
    return undefined
  }
  return n
}

export function flag(raw: Raw, field: string, problems: Problems): boolean {
  if (raw === undefined || raw === null || raw === '') return false
  if (typeof raw === 'boolean') return raw
  const s = String(raw).trim().toLowerCase()
  if (s === 'true' || s === '1' || s === 'on' || s === 'yes') return true
  if (s === 'false' || s === '0' || s === 'off' || s === 'no') return false
  problems.add(field, 'must be true or false')
  return false
}

export function time(raw: Raw, field: string, problems: Problems, ctx: TimeContext): Date | undefined {
  const s = text(raw, field, problems, 64)
  return s === undefined ? undefined : problems.read(field, () => parseTime(s, ctx))
}

/** `90d`, `12h`: a span above zero. */
export function span(raw: Raw, field: string, problems: Problems): number | undefined {
  const s = text(raw, field, problems, 32)
  if (s === undefined) return undefined
  const ms = problems.read(field, () => parseSpan(s))
  if (ms !== undefined && ms <= 0) {
    problems.add(field, 'must be longer than zero')
    return undefined
  }
  return ms
}

function status(raw: Raw, problems: Problems, allowed: readonly DeliveryStatus[]): DeliveryStatus | undefined {
  const s = text(raw, 'status', problems, 32)
  if (s === undefined) return undefined
  if (!(allowed as readonly string[]).includes(s)) {
    problems.add('status', `must be one of ${allowed.join(', ')}`)
    return undefined
  }
  return s as DeliveryStatus
}

/** The filter fields shared by listing, export and bulk retry. Adds problems; does not throw. */
export function readFilter(raw: RawDeliveryQuery, problems: Problems, ctx: TimeContext, statuses: readonly DeliveryStatus[] = DELIVERY_STATUSES): DeliveryFilter {
  const since = time(raw.since, 'since', problems, ctx)
  const until = time(raw.until, 'until', problems, ctx)
  if (since && until && until.getTime() <= since.getTime()) problems.add('until', 'must be later than since')
  return {
    app: text(raw.app, 'app', problems, 100),
    status: status(raw.status, problems, statuses),
    srNumber: text(raw.sr, 'sr', problems, 64),
    recordId: text(raw.record, 'record', problems, 64),
    since,
    until,
    q: text(raw.q, 'q', problems)
  }
}

/** A page of GET /deliveries: the filter, `limit` (default 100, at most 1000), `before`. */
export function readDeliveryQuery(raw: RawDeliveryQuery, ctx: TimeContext, maxLimit = MAX_PAGE): DeliveryQuery {
  const problems = new Problems()
  const filter = readFilter(raw, problems, ctx)
  const limit = wholeNumber(raw.limit, 'limit', problems, 1, maxLimit)
  const before = wholeNumber(raw.before, 'before', problems, 1, Number.MAX_SAFE_INTEGER)
  problems.throwIfAny()
  return { filter, limit: limit ?? DEFAULT_PAGE, before }
}

/** An export (CSV route, `knack311 export`): the same filters; every matching row unless `limit`. */
export function readExportQuery(raw: RawDeliveryQuery, ctx: TimeContext): { filter: DeliveryFilter; limit: number | undefined } {
  const problems = new Problems()
  const filter = readFilter(raw, problems, ctx)
  const limit = wholeNumber(raw.limit, 'limit', problems, 1, Number.MAX_SAFE_INTEGER)
  if (raw.before !== undefined && raw.before !== null && raw.before !== '') problems.add('before', 'is for paging GET /deliveries; an export has every row')
  problems.throwIfAny()
  return { filter, limit }
}
