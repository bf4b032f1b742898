// Reading message variables out of an untrusted Knack record (webhook bodies included).
import { htmlToText } from './html.js'
import type { FieldProblem } from './types.js'

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])
// Knack records nest three levels at most (record → connection array → connection).
const MAX_DEPTH = 16

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * Problems with the record as a whole: not a plain object, a key that could pollute a
 * prototype anywhere inside it (`__proto__`, `constructor`, `prototype`), or absurd nesting.
 * Only own keys are looked at, so nothing is read through a prototype.
 */
export function recordShapeProblems(record: unknown): FieldProblem[] {
  if (!isPlainObject(record)) return [{ field: 'record', message: 'must be a JSON object' }]
  const problems: FieldProblem[] = []
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: record, path: 'record', depth: 0 }]
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop() as { value: unknown; path: string; depth: number }
    if (typeof value !== 'object' || value === null) continue
    if (depth > MAX_DEPTH) {
      problems.push({ field: path, message: 'nests too deeply' })
      continue
    }
    for (const key of Object.keys(value)) {
      const child = `${path}.${key}`
      if (FORBIDDEN_KEYS.has(key)) {
        problems.push({ field: child, message: 'is a forbidden key' })
        continue
      }
      stack.push({ value: (value as Record<string, unknown>)[key], path: child, depth: depth + 1 })
    }
  }
  return problems
}

function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined
}

/**
 * The value of a field: `field_N_raw` when present, else `field_N` with its HTML turned into
 * text (`<br />` → newline). Field id `id` is the record's own id.
 */
export function fieldValue(record: Record<string, unknown>, fieldId: string): unknown {
  if (fieldId === 'id') return own(record, 'id')
  const raw = own(record, `${fieldId}_raw`)
  if (raw !== undefined) return raw
  const formatted = own(record, fieldId)
  return typeof formatted === 'string' ? htmlToText(formatted) : formatted
}
