// Activity records in exactly the shapes Knack's API returns, for the simulator's seed data and
// for tests: `field_N` formatted (HTML), `field_N_raw` plain, dates as Knack's raw date object.
import type { AppConfig, FieldVariable } from '../config/types.js'
import type { KnackField, KnackRecord } from '../clients/knack/types.js'

export interface ActivityInput {
  id: string
  atdActivityId: number
  emiId: string
  srNumber: string
  status: string
  activityName: string
  details?: string
  issueStatus?: string
  /** Wall-clock time in the app's time zone. */
  when: { date: string /* YYYY-MM-DD */; time: string /* HH:MM, 24 h */ }
  csrActivityId?: string
  csrActivityCode?: string
}

/** Knack's raw date/time value. */
export interface KnackDateRaw {
  date: string
  date_formatted: string
  hours: string
  minutes: string
  am_pm: 'AM' | 'PM'
  timestamp: string
  unix_timestamp: number
  iso_timestamp: string
  /** Minutes since midnight. */
  time: number
}

/** Knack field type of each mapped variable, as the real apps define them. */
const FIELD_TYPES: Record<Exclude<FieldVariable, 'id'>, string> = {
  atd_activity_id: 'auto_increment',
  emi_id: 'short_text',
  sr_number: 'short_text',
  issue_status_code_snapshot: 'short_text',
  esb_status: 'multiple_choice',
  activity_datetime: 'date_time',
  activity_details: 'paragraph_text',
  activity_name: 'multiple_choice',
  csr_activity_id: 'short_text',
  csr_activity_code: 'short_text'
}

export function activityRecord(app: AppConfig, a: ActivityInput): KnackRecord {
  const f = app.fields
  const date = knackDate(a.when.date, a.when.time)
  return {
    id: a.id,
    [f.atd_activity_id]: a.atdActivityId,
    [`${f.atd_activity_id}_raw`]: a.atdActivityId,
    ...text(f.emi_id, a.emiId),
    ...text(f.sr_number, a.srNumber),
    ...text(f.issue_status_code_snapshot, a.issueStatus ?? ''),
    ...text(f.esb_status, a.status),
    [f.activity_datetime]: date.formatted,
    [`${f.activity_datetime}_raw`]: date.raw,
    [f.activity_details]: formatParagraph(a.details ?? ''),
    [`${f.activity_details}_raw`]: a.details ?? '',
    ...text(f.activity_name, a.activityName),
    ...text(f.csr_activity_id, a.csrActivityId ?? ''),
    ...text(f.csr_activity_code, a.csrActivityCode ?? '')
  }
}

/** The app's mapped fields as `GET /objects/<obj>/fields` lists them. */
export function fieldsOf(app: AppConfig): KnackField[] {
  return (Object.keys(FIELD_TYPES) as Array<keyof typeof FIELD_TYPES>).map((variable) => ({
    key: app.fields[variable],
    name: variable.toUpperCase(),
    type: FIELD_TYPES[variable]
  }))
}

/** Knack's formatted paragraph text: HTML-escaped, newlines as `<br />`. */
export function formatParagraph(text: string): string {
  return escapeHtml(text).replace(/\r\n|\r|\n/g, '<br />')
}

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c)
}

/** Knack's formatted and raw date/time for a wall-clock date and time. Knack's quirk kept:
 *  unix_timestamp/iso_timestamp are the LOCAL wall time labelled as UTC. */
export function knackDate(date: string, time: string): { formatted: string; raw: KnackDateRaw } {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date)
  const t = /^(\d{1,2}):(\d{2})$/.exec(time)
  if (!d || !t) throw new RangeError(`expected YYYY-MM-DD and HH:MM, got "${date}" "${time}"`)
  const [, year, month, day] = d as unknown as [string, string, string, string]
  const hours24 = Number(t[1])
  const minutes = t[2] as string
  if (hours24 > 23 || Number(minutes) > 59) throw new RangeError(`not a time of day: "${time}"`)
  const am_pm = hours24 < 12 ? 'AM' : 'PM'
  const hours12 = String(hours24 % 12 === 0 ? 12 : hours24 % 12).padStart(2, '0')
  const mdy = `${month}/${day}/${year}`
  const wallAsUtc = Date.UTC(Number(year), Number(month) - 1, Number(day), hours24, Number(minutes))
  return {
    formatted: `${mdy} ${hours12}:${minutes}${am_pm.toLowerCase()}`,
    raw: {
      date: mdy,
      date_formatted: mdy,
      hours: hours12,
      minutes,
      am_pm,
      timestamp: `${mdy} ${hours12}:${minutes} ${am_pm.toLowerCase()}`,
      unix_timestamp: wallAsUtc,
      iso_timestamp: new Date(wallAsUtc).toISOString(),
      time: hours24 * 60 + Number(minutes)
    }
  }
}

function text(field: string, value: string): Record<string, string> {
  return { [field]: value, [`${field}_raw`]: value }
}
