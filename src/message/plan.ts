// Activity → what to do with it: send this XML, or skip it (no CSR code for its name).
import type { AppConfig } from '../config/types.js'
import { UnknownActivity } from '../errors.js'
import { buildEnvelope } from './soap.js'
import { collapseName } from './text.js'
import { publicationTimestamp } from './timestamp.js'
import type { Activity, MessagePlan } from './types.js'

// activity_codes and outcome_codes re-keyed by collapsed name, memoised per app (the config
// never changes). The app-file loader collapses keys already; an AppConfig built in code may not.
const collapsedCodes = new WeakMap<AppConfig, Map<string, string | null>>()
const collapsedOutcomes = new WeakMap<AppConfig, Map<string, string>>()

function byCollapsedName<T>(memo: WeakMap<AppConfig, Map<string, T>>, app: AppConfig, table: Record<string, T>): Map<string, T> {
  let codes = memo.get(app)
  if (codes === undefined) {
    codes = new Map(Object.entries(table).map(([name, code]) => [collapseName(name), code]))
    memo.set(app, codes)
  }
  return codes
}

const codesOf = (app: AppConfig) => byCollapsedName(collapsedCodes, app, app.activity_codes)
const outcomesOf = (app: AppConfig) => byCollapsedName(collapsedOutcomes, app, app.outcome_codes)

export type ActivityTypeCode = { kind: 'code'; code: string } | { kind: 'skip'; reason: string }

/**
 * The CSR activity type code: csr_activity_code when set, else activity_codes[name] compared
 * after trimming and collapsing white space. A name mapped to null is skipped; a name not in
 * activity_codes throws UnknownActivity (a configuration error for this record only).
 */
export function activityTypeCode(app: AppConfig, activity: Activity): ActivityTypeCode {
  const own = activity.csrActivityCode?.trim() ?? ''
  if (own !== '') return { kind: 'code', code: own }
  const name = collapseName(activity.activityName ?? '')
  const codes = codesOf(app)
  if (!codes.has(name)) throw new UnknownActivity(name, app.name)
  const code = codes.get(name)
  if (code === null || code === undefined) {
    return { kind: 'skip', reason: `activity "${name}" is not sent: activity_codes maps it to null` }
  }
  return { kind: 'code', code }
}

/** The issue status as the ESB must see it (closed_duplicate → closed_resolved). */
export function rewriteStatus(app: AppConfig, status: string | null): string | null {
  if (status === null) return null
  const s = status.trim()
  return Object.hasOwn(app.status_rewrites, s) ? (app.status_rewrites[s] ?? s) : s
}

/** Plan the message for an activity, published at `publishedAt` (the caller's clock). */
export function planMessage(app: AppConfig, activity: Activity, publishedAt: Date): MessagePlan {
  const type = activityTypeCode(app, activity)
  if (type.kind === 'skip') return type
  const xml = buildEnvelope({
    emi: activity.emiId,
    timestamp: publicationTimestamp(publishedAt),
    csr: {
      id: activity.id,
      csr_activity_id: activity.csrActivityId,
      sr_number: activity.srNumber,
      issue_status_code: rewriteStatus(app, activity.issueStatusCode),
      activity_type_code: type.code,
      activity_details: activity.activityDetails,
      outcome_code: outcomeCode(app, activity),
      activity_date: activity.activityDate
    }
  })
  return { kind: 'send', xml, activityTypeCode: type.code }
}

/**
 * The outcome code of an activity (per activity since May 2024, reference/apps.md): its own in
 * outcome_codes, names compared after trimming and collapsing white space, else the app's
 * outcome_code. Goes by the activity's name even when csr_activity_code set its type code.
 */
export function outcomeCode(app: AppConfig, activity: Activity): string {
  return outcomesOf(app).get(collapseName(activity.activityName ?? '')) ?? app.outcome_code
}
