// The Knack simulator's list queries: filters, sort and pages over a view's or object's records,
// as Knack's API answers them. Pure functions over the records the simulator holds.
import type { KnackRecord } from '../clients/knack/types.js'

const DEFAULT_ROWS = 25
const MAX_ROWS = 1000

/** An error answered with its status and Knack's `{"errors": [...]}` body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string
  ) {
    super(message)
  }
}


interface FilterRule {
  field: string
  operator: string
  value?: unknown
}

export function listAnswer(all: KnackRecord[], q: URLSearchParams): unknown {
  const filtered = applyFilters(all, q.get('filters'))
  const sorted = applySort(filtered, q.get('sort_field'), q.get('sort_order'))
  const rows = Math.min(MAX_ROWS, positiveInt(q.get('rows_per_page'), DEFAULT_ROWS, 'rows_per_page'))
  const page = positiveInt(q.get('page'), 1, 'page')
  return {
    total_pages: Math.ceil(sorted.length / rows),
    current_page: page,
    total_records: sorted.length,
    records: sorted.slice((page - 1) * rows, page * rows)
  }
}

function applyFilters(records: KnackRecord[], text: string | null): KnackRecord[] {
  if (text === null || text === '') return records
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new HttpError(400, 'filters is not valid JSON')
  }
  // Knack takes either {match, rules} or a bare array of rules (match "and").
  const spec = Array.isArray(parsed) ? { match: 'and', rules: parsed } : (parsed as { match?: unknown; rules?: unknown })
  if (spec === null || typeof spec !== 'object' || !Array.isArray(spec.rules)) throw new HttpError(400, 'filters needs a rules array')
  const matchAll = (spec.match ?? 'and') === 'and'
  if (!matchAll && spec.match !== 'or') throw new HttpError(400, `unknown filter match "${String(spec.match)}"`)
  const rules = spec.rules.map(toRule)
  if (rules.length === 0) return records
  return records.filter((r) => (matchAll ? rules.every((rule) => test(r, rule)) : rules.some((rule) => test(r, rule))))
}

function toRule(value: unknown): FilterRule {
  const rule = value as Partial<FilterRule> | null
  if (rule === null || typeof rule !== 'object' || typeof rule.field !== 'string' || typeof rule.operator !== 'string') {
    throw new HttpError(400, 'each filter rule needs a field and an operator')
  }
  if (!['is', 'is not', 'is blank', 'is not blank', 'higher than', 'lower than'].includes(rule.operator)) throw new HttpError(400, `unsupported filter operator "${rule.operator}"`)
  return { field: rule.field, operator: rule.operator, value: rule.value }
}

function plainValue(record: KnackRecord, field: string): unknown {
  const raw = record[`${field}_raw`]
  return raw === undefined ? record[field] : raw
}

function isBlank(value: unknown): boolean {
  if (value === undefined || value === null) return true
  if (typeof value === 'string') return value.trim() === ''
  if (Array.isArray(value)) return value.length === 0
  return false
}

function equalsValue(value: unknown, wanted: unknown): boolean {
  const w = String(wanted ?? '')
  if (Array.isArray(value)) return value.some((v) => equalsValue(v, wanted))
  if (value !== null && typeof value === 'object') {
    const o = value as { id?: unknown; identifier?: unknown; date?: unknown }
    return [o.id, o.identifier, o.date].some((v) => v !== undefined && String(v) === w)
  }
  return value !== undefined && value !== null && String(value) === w
}

function test(record: KnackRecord, rule: FilterRule): boolean {
  const value = plainValue(record, rule.field)
  switch (rule.operator) {
    case 'is':
      return equalsValue(value, rule.value)
    case 'is not':
      return !equalsValue(value, rule.value)
    case 'is blank':
      return isBlank(value)
    case 'higher than':
    case 'lower than': {
      const n = Number(typeof value === 'string' ? value.replace(/,/g, '') : value)
      const w = Number(rule.value)
      if (isBlank(value) || !Number.isFinite(n) || !Number.isFinite(w)) return false
      return rule.operator === 'higher than' ? n > w : n < w
    }
    default:
      return !isBlank(value)
  }
}

function sortKey(value: unknown): number | string | undefined {
  if (isBlank(value)) return undefined
  if (typeof value === 'number') return value
  if (typeof value === 'string') return /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value
  if (value !== null && typeof value === 'object' && typeof (value as { unix_timestamp?: unknown }).unix_timestamp === 'number') {
    return (value as { unix_timestamp: number }).unix_timestamp
  }
  return JSON.stringify(value)
}

function applySort(records: KnackRecord[], field: string | null, order: string | null): KnackRecord[] {
  if (field === null || field === '') return records
  const sign = order === 'desc' ? -1 : 1
  const keyed = records.map((r) => ({ r, k: sortKey(plainValue(r, field)) }))
  keyed.sort((a, b) => sign * compareKeys(a.k, b.k))
  return keyed.map((x) => x.r)
}

function compareKeys(a: number | string | undefined, b: number | string | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1
  if (typeof a === 'number' && typeof b === 'number') return a - b
  return String(a).localeCompare(String(b), 'en', { numeric: true })
}

function positiveInt(text: string | null, fallback: number, name: string): number {
  if (text === null || text === '') return fallback
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) throw new HttpError(400, `${name} must be a positive whole number`)
  return n
}
