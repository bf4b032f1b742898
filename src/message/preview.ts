// A record → what would happen to it, as one value: the XML to send, or why nothing would be sent.
// The preview route, the console's preview and its delivery page all show this. Pure.
import type { AppConfig } from '../config/types.js'
import { parseActivity } from './activity.js'
import { planMessage } from './plan.js'
import type { FieldProblem } from './types.js'

export type RecordPlan =
  | { kind: 'send'; xml: string }
  /** activity_codes maps the activity to null: marked skipped, nothing sent. */
  | { kind: 'skip'; reason: string }
  /** A field is missing or malformed. */
  | { kind: 'invalid'; summary: string; problems: FieldProblem[] }
  /** The activity name is not in activity_codes (the coded error, for the JSON answer). */
  | { kind: 'unmapped'; error: Error }

export function planRecord(app: AppConfig, record: unknown, publishedAt: Date): RecordPlan {
  const parsed = parseActivity(app, record)
  if (!parsed.ok) {
    return { kind: 'invalid', summary: parsed.problems.map((p) => `${p.field} ${p.message}`).join('; '), problems: parsed.problems }
  }
  let plan
  try {
    plan = planMessage(app, parsed.activity, publishedAt)
  } catch (err) {
    return { kind: 'unmapped', error: err as Error }
  }
  return plan.kind === 'skip' ? plan : { kind: 'send', xml: plan.xml }
}
