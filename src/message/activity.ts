// Knack record → validated Activity, with every bad field named.
import { createHash } from 'node:crypto'
import { z } from 'zod'
import type { AppConfig, FieldVariable } from '../config/types.js'
import { FIELD_VARIABLES } from '../config/types.js'
import { knackDateToIso } from './dates.js'
import { fieldValue, isPlainObject, recordShapeProblems } from './record.js'
import type { Activity, FieldProblem } from './types.js'

type Ctx = z.RefinementCtx

/**
 * A text value from any shape Knack uses: string, number, or connections `[{id, identifier}]`
 * (identifiers joined by ", "). undefined after reporting an issue.
 */
function toText(value: unknown, ctx: Ctx): string | null | undefined {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (Array.isArray(value)) {
    const parts: string[] = []
    for (const item of value) {
      if (typeof item === 'string' || (typeof item === 'number' && Number.isFinite(item))) parts.push(String(item))
      else if (isPlainObject(item) && (typeof item.identifier === 'string' || typeof item.identifier === 'number'))
        parts.push(String(item.identifier))
      else {
        ctx.addIssue({ code: 'custom', message: 'is a list holding something other than text or connections' })
        return undefined
      }
    }
    return parts.length === 0 ? null : parts.join(', ')
  }
  ctx.addIssue({ code: 'custom', message: `is not text (got ${typeof value})` })
  return undefined
}

/** Required text: trimmed, not blank. */
const requiredText = z.unknown().transform((value, ctx): string => {
  if (value === null || value === undefined) {
    ctx.addIssue({ code: 'custom', message: 'is missing' })
    return ''
  }
  const text = toText(value, ctx)
  if (text === undefined) return ''
  const trimmed = text?.trim() ?? ''
  if (trimmed === '') ctx.addIssue({ code: 'custom', message: 'is blank' })
  return trimmed
})

/** Optional code-like text: trimmed, blank → null. */
const optionalText = z.unknown().transform((value, ctx): string | null => {
  const text = toText(value, ctx)?.trim() ?? ''
  return text === '' ? null : text
})

/** Free text kept as typed (inner white space and line breaks matter); blank → null. */
const freeText = z.unknown().transform((value, ctx): string | null => {
  const text = toText(value, ctx)
  return text === null || text === undefined || text.trim() === '' ? null : text
})

/** The auto-increment number: a number or numeric string, integer ≥ 0. */
const autoIncrement = z.unknown().transform((value, ctx): number => {
  if (value === null || value === undefined || (typeof value === 'string' && value.trim() === '')) {
    ctx.addIssue({ code: 'custom', message: 'is missing' })
    return -1
  }
  let n = NaN
  if (typeof value === 'number') n = value
  else if (typeof value === 'string' && /^(\d+|\d{1,3}(,\d{3})+)$/.test(value.trim())) n = Number(value.trim().replace(/,/g, ''))
  if (!Number.isSafeInteger(n) || n < 0) ctx.addIssue({ code: 'custom', message: 'must be a whole number >= 0' })
  return n
})

function dateIn(timeZone: string) {
  return z.unknown().transform((value, ctx): string | null => {
    try {
      return knackDateToIso(value, timeZone)
    } catch {
      const shown = typeof value === 'string' ? ` "${value.slice(0, 40)}"` : ''
      ctx.addIssue({ code: 'custom', message: `is not a date${shown}` })
      return null
    }
  })
}

/** One schema per app (the date needs the app's zone), keyed by message variable. */
function activitySchema(app: AppConfig) {
  return z.object({
    id: requiredText,
    atd_activity_id: autoIncrement,
    emi_id: requiredText,
    sr_number: requiredText,
    issue_status_code_snapshot: optionalText,
    esb_status: optionalText,
    activity_datetime: dateIn(app.timezone),
    activity_details: freeText,
    activity_name: requiredText,
    csr_activity_id: optionalText,
    csr_activity_code: optionalText
  } satisfies Record<FieldVariable, z.ZodType>)
}

type Schema = ReturnType<typeof activitySchema>
// Memo per app object: the config is immutable after start-up.
const schemas = new WeakMap<AppConfig, Schema>()

function schemaFor(app: AppConfig): Schema {
  let schema = schemas.get(app)
  if (schema === undefined) {
    schema = activitySchema(app)
    schemas.set(app, schema)
  }
  return schema
}

function label(app: AppConfig, variable: PropertyKey | undefined): string {
  const v = String(variable) as FieldVariable
  return (FIELD_VARIABLES as readonly string[]).includes(v) ? `${v} (${app.fields[v]})` : String(variable)
}

export type ParsedActivity = { ok: true; activity: Activity } | { ok: false; problems: FieldProblem[] }

/** Validate a Knack record against the app's field map; on failure list EVERY bad field. */
export function parseActivity(app: AppConfig, record: unknown): ParsedActivity {
  const shape = recordShapeProblems(record)
  if (shape.length > 0 || !isPlainObject(record)) return { ok: false, problems: shape }
  const values = Object.fromEntries(FIELD_VARIABLES.map((v) => [v, fieldValue(record, app.fields[v])]))
  const result = schemaFor(app).safeParse(values)
  if (!result.success) {
    return { ok: false, problems: result.error.issues.map((i) => ({ field: label(app, i.path[0]), message: i.message })) }
  }
  const d = result.data
  return {
    ok: true,
    activity: {
      id: d.id,
      atdActivityId: d.atd_activity_id,
      emiId: d.emi_id,
      srNumber: d.sr_number,
      issueStatusCode: d.issue_status_code_snapshot,
      esbStatus: d.esb_status,
      activityDate: d.activity_datetime,
      activityDetails: d.activity_details,
      activityName: d.activity_name,
      csrActivityId: d.csr_activity_id,
      csrActivityCode: d.csr_activity_code
    }
  }
}

/**
 * sha256 (hex) of the activity's content: canonical JSON (keys sorted) of every field except
 * esbStatus, so marking a record SENT does not make it look like new content.
 */
export function contentHash(activity: Activity): string {
  const { esbStatus: _status, ...content } = activity
  const canonical = JSON.stringify(content, Object.keys(content).sort())
  return createHash('sha256').update(canonical, 'utf8').digest('hex')
}
