import t from 'tap'
import { contentHash, parseActivity } from '../../src/message/activity.js'
import type { Activity } from '../../src/message/types.js'
import { dataTrackerApp, knackRecord, sampleRecord, sampleValues } from './records.js'

const app = dataTrackerApp()

function ok(record: unknown): Activity {
  const r = parseActivity(app, record)
  if (!r.ok) throw new Error(`expected a valid record: ${JSON.stringify(r.problems)}`)
  return r.activity
}

t.test('a valid record becomes an Activity', async (t) => {
  t.same(ok(sampleRecord(app)), {
    id: '5d79a5f5e3a1c0001a2b3c4d',
    atdActivityId: 1234,
    emiId: 'EMI-98765',
    srNumber: '19-00123456',
    issueStatusCode: 'in_progress',
    esbStatus: 'READY_TO_SEND',
    activityDate: '2019-09-11T16:14:00-05:00',
    activityDetails: 'Checked the signal.\nAll good.',
    activityName: 'Dispatch Technician',
    csrActivityId: null,
    csrActivityCode: null
  })
})

t.test('_raw text is used: newlines, not <br />', async (t) => {
  const record = sampleRecord(app, { activity_details: 'one\ntwo & <three>' })
  t.equal(record.field_1055, 'one<br />two &amp; &lt;three&gt;', 'the formatted value holds HTML')
  t.equal(ok(record).activityDetails, 'one\ntwo & <three>')
})

t.test('without _raw, the formatted value is stripped of HTML and decoded once', async (t) => {
  const record = sampleRecord(app, { activity_details: 'one\ntwo &amp; <b>' }, { formattedOnly: ['activity_details'] })
  t.notOk('field_1055_raw' in record)
  t.equal(ok(record).activityDetails, 'one\ntwo &amp; <b>')
  const html: Record<string, unknown> = { ...sampleRecord(app), field_1055: '<p>see <a href="x">link</a><br>next<br/>&#233;&#x41;&nbsp;&bogus;</p>' }
  delete html.field_1055_raw
  t.equal(ok(html).activityDetails, 'see link\nnext\néA\u00a0&bogus;')
})

t.test('connections give their identifiers joined by ", "', async (t) => {
  t.equal(ok(sampleRecord(app, { emi_id: 'EMI-7' }, { connections: ['emi_id'] })).emiId, 'EMI-7')
  const record = { ...sampleRecord(app), field_1232_raw: [{ id: 'a', identifier: '19-1' }, { id: 'b', identifier: 20 }] }
  t.equal(ok(record).srNumber, '19-1, 20')
  const formattedOnly = sampleRecord(app, { emi_id: 'EMI-8' }, { connections: ['emi_id'], formattedOnly: ['emi_id'] })
  t.equal(ok(formattedOnly).emiId, 'EMI-8', 'from the <span> of the formatted value')
})

t.test('atd_activity_id as a number or numeric string', async (t) => {
  t.equal(ok(sampleRecord(app, { atd_activity_id: '42' })).atdActivityId, 42)
  t.equal(ok(sampleRecord(app, { atd_activity_id: ' 0 ' })).atdActivityId, 0)
  t.equal(ok(sampleRecord(app, { atd_activity_id: 77 }, { formattedOnly: ['atd_activity_id'] })).atdActivityId, 77)
  for (const bad of [-1, 1.5, '1.5', 'abc', '-3', Number.MAX_SAFE_INTEGER + 2, true]) {
    const r = parseActivity(app, sampleRecord(app, { atd_activity_id: bad }))
    t.same(r.ok ? [] : r.problems, [{ field: 'atd_activity_id (field_1051)', message: 'must be a whole number >= 0' }], String(bad))
  }
})

t.test('missing or null optional values are null; emi and codes are trimmed', async (t) => {
  const values = sampleValues()
  delete values.issue_status_code_snapshot
  delete values.activity_details
  delete values.activity_datetime
  const a = ok(knackRecord(app, { ...values, emi_id: '  E1 ', csr_activity_code: ' ', esb_status: null }))
  t.equal(a.emiId, 'E1')
  t.equal(a.issueStatusCode, null)
  t.equal(a.activityDetails, null)
  t.equal(a.activityDate, null)
  t.equal(a.csrActivityCode, null)
  t.equal(a.esbStatus, null)
})

t.test('parseActivity lists every bad field, naming variable and field id', async (t) => {
  const record = {
    ...knackRecord(app, {
      id: '  ',
      atd_activity_id: 'x',
      emi_id: '   ',
      activity_name: '',
      activity_details: { nested: true },
      activity_datetime: '31/31/2019'
    })
  }
  const r = parseActivity(app, record)
  t.equal(r.ok, false)
  const problems = r.ok ? [] : r.problems
  t.same(
    [...problems].sort((a, b) => a.field.localeCompare(b.field)),
    [
      { field: 'activity_datetime (field_1054)', message: 'is not a date "31/31/2019"' },
      { field: 'activity_details (field_1055)', message: 'is not text (got object)' },
      { field: 'activity_name (field_1053)', message: 'is blank' },
      { field: 'atd_activity_id (field_1051)', message: 'must be a whole number >= 0' },
      { field: 'emi_id (field_1868)', message: 'is blank' },
      { field: 'id (id)', message: 'is blank' },
      { field: 'sr_number (field_1232)', message: 'is missing' }
    ]
  )
})

t.test('the record must be a plain object', async (t) => {
  for (const bad of [null, undefined, 'x', 42, [], [sampleRecord(app)], new Date(), new (class R {})()]) {
    t.same(parseActivity(app, bad), { ok: false, problems: [{ field: 'record', message: 'must be a JSON object' }] }, String(bad))
  }
  t.ok(parseActivity(app, Object.assign(Object.create(null) as object, sampleRecord(app))).ok, 'null prototype is fine')
})

t.test('__proto__, constructor and prototype keys are rejected without polluting anything', async (t) => {
  const good = JSON.stringify(sampleRecord(app))
  const poisoned = JSON.parse(`{"__proto__":{"polluted":"yes"},${good.slice(1)}`) as unknown
  const r = parseActivity(app, poisoned)
  t.same(r.ok ? [] : r.problems, [{ field: 'record.__proto__', message: 'is a forbidden key' }])
  t.equal(({} as Record<string, unknown>).polluted, undefined)
  const nested = JSON.parse(`{"field_9_raw":[{"id":"a","identifier":"1","constructor":{"prototype":{"x":1}}}],${good.slice(1)}`) as unknown
  const n = parseActivity(app, nested)
  t.same(n.ok ? [] : n.problems, [{ field: 'record.field_9_raw.0.constructor', message: 'is a forbidden key' }])
  t.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'x'), false)
})

t.test('absurdly nested records are rejected', async (t) => {
  let deep: unknown = 'x'
  for (let i = 0; i < 40; i++) deep = { a: deep }
  const r = parseActivity(app, { ...sampleRecord(app), field_9: deep })
  t.equal(r.ok, false)
  t.match(r.ok ? [] : r.problems, [{ message: 'nests too deeply' }])
})

t.test('contentHash: sha256 hex of the content without esbStatus, independent of key order', async (t) => {
  const a = ok(sampleRecord(app))
  const h = contentHash(a)
  t.match(h, /^[0-9a-f]{64}$/)
  t.equal(contentHash({ ...a, esbStatus: 'SENT' }), h, 'status excluded')
  const reordered = Object.fromEntries(Object.entries(a).reverse()) as unknown as Activity
  t.equal(contentHash(reordered), h)
  t.not(contentHash({ ...a, activityDetails: 'other' }), h)
  t.not(contentHash({ ...a, activityDetails: null }), contentHash({ ...a, activityDetails: 'null' }))
})
