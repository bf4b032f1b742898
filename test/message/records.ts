// Test fixtures: app configs from reference/apps.md and Knack-shaped records built for them.
import type { KnackRecord } from '../../src/clients/knack/types.js'
import type { AppConfig, FieldVariable } from '../../src/config/types.js'

export function dataTrackerApp(): AppConfig {
  return {
    name: 'data-tracker',
    obj: 'object_75',
    scene: 'scene_514',
    view: 'view_1653',
    timezone: 'America/Chicago',
    fields: {
      id: 'id',
      atd_activity_id: 'field_1051',
      emi_id: 'field_1868',
      sr_number: 'field_1232',
      issue_status_code_snapshot: 'field_1874',
      esb_status: 'field_1860',
      activity_datetime: 'field_1054',
      activity_details: 'field_1055',
      activity_name: 'field_1053',
      csr_activity_id: 'field_4583',
      csr_activity_code: 'field_4582'
    },
    activity_codes: {
      'Identify Asset': 'IDENASSE',
      'Dispatch Technician': 'DISPTECH',
      'Close Issue (Resolved)': 'CLOIS001',
      'Close Issue (Duplicate)': 'CLOIS001',
      '311 Feedback': '311FEEDB',
      'Remote Monitor Reset - Successful': 'REMORESU',
      'Coordinate Internally/Externally': 'COORINTE',
      Other: null,
      'Attach Image': null,
      'Send Email': null
    },
    status_rewrites: { closed_duplicate: 'closed_resolved' },
    statuses: { ready: 'READY_TO_SEND', sent: 'SENT', skipped: 'DO_NOT_SEND' },
    outcome_code: 'COMPLET1',
    outcome_codes: {},
    credentials: { appId: 'test-app', apiKey: 'test-key' }
  }
}

/** A local wall-clock time in the app's zone, 24-hour. */
export interface Wall {
  year: number
  month: number
  day: number
  hour: number
  minute: number
}

const p2 = (n: number): string => String(n).padStart(2, '0')

/** "09/11/2019 04:14pm", as Knack formats a date/time field. */
export function formattedDate(w: Wall): string {
  const h12 = w.hour % 12 === 0 ? 12 : w.hour % 12
  return `${p2(w.month)}/${p2(w.day)}/${w.year} ${p2(h12)}:${p2(w.minute)}${w.hour < 12 ? 'am' : 'pm'}`
}

/** The raw date object Knack sends: unix/iso timestamps are the wall clock labelled UTC. */
export function knackDateRaw(w: Wall): Record<string, unknown> {
  const date = `${p2(w.month)}/${p2(w.day)}/${w.year}`
  const h12 = w.hour % 12 === 0 ? 12 : w.hour % 12
  const amPm = w.hour < 12 ? 'AM' : 'PM'
  const unix = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute)
  return {
    date,
    date_formatted: date,
    hours: p2(h12),
    minutes: p2(w.minute),
    am_pm: amPm,
    timestamp: `${date} ${p2(h12)}:${p2(w.minute)} ${amPm.toLowerCase()}`,
    unix_timestamp: unix,
    iso_timestamp: new Date(unix).toISOString(),
    time: w.hour * 60 + w.minute
  }
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** Valid values for every variable; activity_datetime is a Wall. */
export function sampleValues(): Partial<Record<FieldVariable, unknown>> {
  return {
    id: '5d79a5f5e3a1c0001a2b3c4d',
    atd_activity_id: 1234,
    emi_id: 'EMI-98765',
    sr_number: '19-00123456',
    issue_status_code_snapshot: 'in_progress',
    esb_status: 'READY_TO_SEND',
    activity_datetime: { year: 2019, month: 9, day: 11, hour: 16, minute: 14 } satisfies Wall,
    activity_details: 'Checked the signal.\nAll good.',
    activity_name: 'Dispatch Technician',
    csr_activity_id: null,
    csr_activity_code: null
  }
}

export interface RecordOptions {
  /** Variables sent without `_raw`, only as the formatted (HTML) value. */
  formattedOnly?: FieldVariable[]
  /** Variables sent as a connection: raw `[{id, identifier}]`, formatted `<span>`. */
  connections?: FieldVariable[]
}

const isWall = (v: unknown): v is Wall => typeof v === 'object' && v !== null && 'year' in v && 'hour' in v

/** A record as Knack's view returns it, for an app's field map. Undefined values are left out. */
export function knackRecord(app: AppConfig, values: Partial<Record<FieldVariable, unknown>>, options: RecordOptions = {}): KnackRecord {
  const record: Record<string, unknown> = {}
  for (const [variable, value] of Object.entries(values) as Array<[FieldVariable, unknown]>) {
    if (value === undefined) continue
    const field = app.fields[variable]
    if (field === 'id') {
      record.id = value
      continue
    }
    let raw: unknown = value
    let formatted = ''
    if (isWall(value)) {
      raw = knackDateRaw(value)
      formatted = formattedDate(value)
    } else if (options.connections?.includes(variable) && typeof value === 'string') {
      const id = `6${'0'.repeat(23)}`
      raw = [{ id, identifier: value }]
      formatted = `<span class="${id}">${escapeHtml(value)}</span>`
    } else if (typeof value === 'string') {
      formatted = escapeHtml(value).replace(/\n/g, '<br />')
    } else if (typeof value === 'number') {
      formatted = String(value)
    }
    record[field] = formatted
    if (!options.formattedOnly?.includes(variable)) record[`${field}_raw`] = raw
  }
  return record as KnackRecord
}

/** A valid record of the app, with some values replaced. */
export function sampleRecord(app: AppConfig, overrides: Partial<Record<FieldVariable, unknown>> = {}, options?: RecordOptions): KnackRecord {
  return knackRecord(app, { ...sampleValues(), ...overrides }, options)
}
