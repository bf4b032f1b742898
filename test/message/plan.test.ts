import t from 'tap'
import { parseActivity } from '../../src/message/activity.js'
import { planMessage } from '../../src/message/plan.js'
import { parseEnvelope } from '../../src/message/soap.js'
import type { Activity } from '../../src/message/types.js'
import type { AppConfig } from '../../src/config/types.js'
import { dataTrackerApp, sampleRecord } from './records.js'

const app = dataTrackerApp()
const PUBLISHED = new Date('2026-11-28T23:23:30Z')

function activity(overrides: Record<string, unknown> = {}, forApp: AppConfig = app): Activity {
  const r = parseActivity(forApp, sampleRecord(forApp, overrides))
  if (!r.ok) throw new Error(JSON.stringify(r.problems))
  return r.activity
}

function sent(a: Activity, forApp: AppConfig = app, at: Date = PUBLISHED) {
  const plan = planMessage(forApp, a, at)
  if (plan.kind !== 'send') throw new Error(`expected send, got ${plan.reason}`)
  return { ...plan, values: parseEnvelope(plan.xml) }
}

t.test('a record becomes the full message', async (t) => {
  const { values, activityTypeCode } = sent(activity())
  t.equal(activityTypeCode, 'DISPTECH')
  t.same(values, {
    header: { emi: 'EMI-98765', timestamp: '2026-11-28T23:23:30+00:00', source: 'KNACK', target: 'CSR', data_type: 'CSR', event: 'UPDATE' },
    csr: {
      id: '5d79a5f5e3a1c0001a2b3c4d',
      csr_activity_id: '',
      sr_number: '19-00123456',
      issue_status_code: 'in_progress',
      activity_type_code: 'DISPTECH',
      activity_details: 'Checked the signal.\nAll good.',
      outcome_code: 'COMPLET1',
      activity_date: '2019-09-11T16:14:00-05:00'
    }
  })
})

t.test('activity names with stray or doubled spaces still find their code', async (t) => {
  t.equal(sent(activity({ activity_name: '  Dispatch   Technician ' })).activityTypeCode, 'DISPTECH')
  t.equal(sent(activity({ activity_name: 'Close Issue\u00a0(Resolved)\n' })).activityTypeCode, 'CLOIS001')
  const spacedKeys = { ...dataTrackerApp(), activity_codes: { ' Remote  Monitor Reset -  Successful ': 'REMORESU' } }
  t.equal(sent(activity({ activity_name: 'Remote Monitor Reset - Successful' }, spacedKeys), spacedKeys).activityTypeCode, 'REMORESU')
})

t.test('a name mapped to null is skipped with a reason', async (t) => {
  const plan = planMessage(app, activity({ activity_name: ' Attach  Image' }), PUBLISHED)
  t.same(plan, { kind: 'skip', reason: 'activity "Attach Image" is not sent: activity_codes maps it to null' })
})

t.test('a name missing from activity_codes throws UnknownActivity naming it', async (t) => {
  t.throws(() => planMessage(app, activity({ activity_name: 'Paint  the Sky' }), PUBLISHED), {
    code: 'UNKNOWN_ACTIVITY',
    statusCode: 422,
    message: 'Activity name "Paint the Sky" is not in the activity_codes of app data-tracker'
  })
  t.throws(() => planMessage(app, activity({ activity_name: 'constructor' }), PUBLISHED), { code: 'UNKNOWN_ACTIVITY' }, 'no prototype lookups')
})

t.test('csr_activity_code wins over the name', async (t) => {
  t.equal(sent(activity({ csr_activity_code: 'PAGE0001' })).activityTypeCode, 'PAGE0001')
  t.equal(sent(activity({ csr_activity_code: ' PAGE0001 ', activity_name: 'Other' })).values.csr.activity_type_code, 'PAGE0001', 'even over a null name')
  t.equal(sent(activity({ csr_activity_code: 'PAGE0001', activity_name: 'Unknown thing' })).activityTypeCode, 'PAGE0001', 'even over an unknown name')
  t.equal(sent(activity({ csr_activity_code: '  ' })).activityTypeCode, 'DISPTECH', 'blank does not count')
  t.equal(sent(activity({ csr_activity_id: 'CSR-55' })).values.csr.csr_activity_id, 'CSR-55')
})

t.test('closed_duplicate is sent as closed_resolved; other statuses unchanged', async (t) => {
  t.equal(sent(activity({ issue_status_code_snapshot: 'closed_duplicate' })).values.csr.issue_status_code, 'closed_resolved')
  t.equal(sent(activity({ issue_status_code_snapshot: 'closed_resolved' })).values.csr.issue_status_code, 'closed_resolved')
  t.equal(sent(activity({ issue_status_code_snapshot: 'pending_review' })).values.csr.issue_status_code, 'pending_review')
  t.equal(sent(activity({ issue_status_code_snapshot: 'toString' })).values.csr.issue_status_code, 'toString', 'no prototype lookups')
  t.equal(sent(activity({ issue_status_code_snapshot: null })).values.csr.issue_status_code, '')
})

t.test('constants, and outcome_code from the app', async (t) => {
  const other = { ...dataTrackerApp(), outcome_code: 'OTHER001' }
  const { values, xml } = sent(activity({}, other), other)
  t.equal(values.csr.outcome_code, 'OTHER001')
  t.same([values.header.source, values.header.target, values.header.data_type, values.header.event], ['KNACK', 'CSR', 'CSR', 'UPDATE'])
  t.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?><soapenv:Envelope/)
})

t.test('publication time is UTC with microseconds, as the legacy wrote it, whatever the app zone', async (t) => {
  const at = (iso: string) => sent(activity(), app, new Date(iso)).values.header.timestamp
  t.equal(at('2024-01-15T18:04:05.123Z'), '2024-01-15T18:04:05.123000+00:00')
  t.equal(at('2024-01-15T18:04:05Z'), '2024-01-15T18:04:05+00:00', 'no fraction on a whole second')
  t.equal(at('2019-03-10T08:00:00Z'), '2019-03-10T08:00:00+00:00', 'spring forward changes nothing')
  t.equal(at('2019-11-03T06:30:00.500Z'), '2019-11-03T06:30:00.500000+00:00', 'nor does the first 01:30 of fall back')
  t.equal(at('2019-11-03T07:30:00Z'), '2019-11-03T07:30:00+00:00', 'nor the second')
  const kolkata = { ...dataTrackerApp(), timezone: 'Asia/Kolkata' }
  t.equal(sent(activity({}, kolkata), kolkata, new Date('2024-01-15T18:04:05.123Z')).values.header.timestamp, '2024-01-15T18:04:05.123000+00:00', 'another app zone')
})

t.test('activity date across DST, from the record to the message', async (t) => {
  const date = (w: { year: number; month: number; day: number; hour: number; minute: number }) =>
    sent(activity({ activity_datetime: w })).values.csr.activity_date
  t.equal(date({ year: 2019, month: 3, day: 10, hour: 1, minute: 30 }), '2019-03-10T01:30:00-06:00')
  t.equal(date({ year: 2019, month: 3, day: 10, hour: 2, minute: 30 }), '2019-03-10T02:30:00-06:00', 'missing hour: standard time, as the legacy sent it')
  t.equal(date({ year: 2019, month: 11, day: 3, hour: 1, minute: 30 }), '2019-11-03T01:30:00-06:00', 'repeated hour: standard time')
  t.equal(date({ year: 2019, month: 11, day: 3, hour: 2, minute: 30 }), '2019-11-03T02:30:00-06:00')
  t.equal(date({ year: 2024, month: 11, day: 3, hour: 0, minute: 59 }), '2024-11-03T00:59:00-05:00', 'just before the repeated hour of 2024')
  t.equal(date({ year: 2024, month: 11, day: 3, hour: 1, minute: 30 }), '2024-11-03T01:30:00-06:00', 'inside it')
  t.equal(date({ year: 2024, month: 11, day: 3, hour: 2, minute: 0 }), '2024-11-03T02:00:00-06:00', 'just after it')
})

t.test('missing values become empty elements', async (t) => {
  const { xml } = sent(activity({ activity_details: null, activity_datetime: null, issue_status_code_snapshot: undefined }))
  t.match(xml, '<activity_details></activity_details>')
  t.match(xml, '<activity_date></activity_date>')
  t.match(xml, '<issue_status_code></issue_status_code>')
  t.match(xml, '<csr_activity_id></csr_activity_id>')
})

t.test('text from the record is transliterated and escaped once on the way out', async (t) => {
  const { values, xml } = sent(activity({ activity_details: 'Café Ñ 😀 a<b a&amp;b\u0000', emi_id: 'Ø1' }))
  t.equal(values.csr.activity_details, 'Cafe N  a<b a&amp;b')
  t.equal(values.header.emi, 'O1')
  t.match(xml, 'a&lt;b a&amp;amp;b')
  t.match(xml, /^[\t\n\r\x20-\x7e]*$/)
})
