// Ready activity records for the benches: n records spread round-robin over `srs` service
// requests, atd_activity_id increasing, every activity name one that is sent to the ESB.
import type { AppConfig } from '../src/config/types.js'
import { activityRecord, type ActivityInput } from '../src/sandbox/knack-records.js'

/** data-tracker activity names that map to a CSR code (so each record is one ESB message). */
const SENT_NAMES = ['Dispatch Technician', 'Adjust Timing', 'Complete Repairs', 'Identify Asset', 'Assign to TMC', 'Close Issue (Resolved)']

export function readyActivities(n: number, srs: number, tag: string, firstAtd = 100_000): ActivityInput[] {
  const out: ActivityInput[] = []
  for (let i = 0; i < n; i++) {
    const sr = i % srs
    out.push({
      // Knack ids are 24 hex digits; the tag keeps runs apart.
      id: knackId(tag, i),
      atdActivityId: firstAtd + i,
      emiId: `EMI-${30_000 + sr}`,
      srNumber: `26-${String(500_000 + sr).padStart(8, '0')}`,
      status: 'READY_TO_SEND',
      activityName: SENT_NAMES[i % SENT_NAMES.length] as string,
      issueStatus: 'in_progress',
      details: `Bench activity ${i} on SR ${sr}: signal timing checked at Lamar & 5th, café corner; crew notes line two.`,
      when: { date: '2026-11-28', time: `${String(7 + (i % 12)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}` }
    })
  }
  return out
}

/**
 * Distinct, valid webhook bodies without building each record from scratch: one record is
 * serialised once with marker values, and each body swaps in a new id, SR and activity id.
 * `srs` spreads the bodies over that many service requests; absent, each has its own.
 */
export function webhookBodies(app: AppConfig, tag: string, srs?: number): (i: number) => string {
  const template = JSON.stringify(
    activityRecord(app, {
      id: 'IDMARK',
      atdActivityId: 987_654_321,
      emiId: 'EMI-1',
      srNumber: 'SRMARK',
      status: 'READY_TO_SEND',
      activityName: 'Dispatch Technician',
      issueStatus: 'in_progress',
      details: 'Webhook bench activity: signal dark at Lamar & 5th, tech en route.',
      when: { date: '2026-11-28', time: '07:42' }
    })
  )
  const parts = template.split(/IDMARK|SRMARK|987654321/)
  const markers = [...template.matchAll(/IDMARK|SRMARK|987654321/g)].map((m) => m[0])
  return (i: number) => {
    const values: Record<string, string> = {
      IDMARK: knackId(tag, i),
      SRMARK: `W-${tag}-${srs === undefined ? i : i % srs}`,
      '987654321': String(1_000_000 + i)
    }
    let body = parts[0] as string
    markers.forEach((m, k) => {
      body += (values[m] as string) + (parts[k + 1] as string)
    })
    return body
  }
}

/** A Knack-looking record id (24 characters), unique per (tag, i). */
export function knackId(tag: string, i: number): string {
  return `${tag}${i.toString(16).padStart(24 - tag.length, '0')}`
}
