// Property-based: whatever text Knack holds, the message is well-formed ASCII XML that reads
// back as exactly the transliterated text.
import t from 'tap'
import fc from 'fast-check'
import { XMLValidator } from 'fast-xml-parser'
import { contentHash, parseActivity } from '../../src/message/activity.js'
import { planMessage } from '../../src/message/plan.js'
import { buildEnvelope, parseEnvelope } from '../../src/message/soap.js'
import { toAsciiText } from '../../src/message/text.js'
import { dataTrackerApp, sampleRecord } from './records.js'

const RUNS = 300
const app = dataTrackerApp()

const special = fc.constantFrom('<', '>', '&', '"', "'", '\r', '\n', '\r\n', '\t', ']]>', '&amp;', '&lt;', '&#65;', '\u0000', '\u0085', '\ufffe', '\uffff', 'é', '😀', ' ')
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((n) => String.fromCharCode(n))
const anyChar = fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }), special, loneSurrogate)
/** Full Unicode, lone surrogates, XML specials and control characters. */
const text = fc.string({ unit: anyChar, maxLength: 40 })

/** What an XML parser hands back: line ends normalised (XML 1.0 §2.11). */
const asParsed = (s: string): string => toAsciiText(s).replace(/\r\n?/g, '\n')
const ASCII_XML = /^[\t\n\r\x20-\x7e]*$/

t.test('toAsciiText: always printable ASCII plus \\t\\n\\r, and idempotent', async (t) => {
  fc.assert(
    fc.property(text, (s) => {
      const out = toAsciiText(s)
      return ASCII_XML.test(out) && toAsciiText(out) === out
    }),
    { numRuns: RUNS }
  )
  t.pass('property held')
})

t.test('buildEnvelope: well-formed, all ASCII, reads back as toAsciiText(input)', async (t) => {
  fc.assert(
    fc.property(text, text, text, text, text, (details, sr, emi, id, csrId) => {
      const xml = buildEnvelope({
        emi,
        timestamp: '2026-11-28T17:23:30-06:00',
        csr: {
          id,
          csr_activity_id: csrId,
          sr_number: sr,
          issue_status_code: 'in_progress',
          activity_type_code: 'DISPTECH',
          activity_details: details,
          outcome_code: 'COMPLET1',
          activity_date: null
        }
      })
      if (XMLValidator.validate(xml) !== true) return false
      if (!ASCII_XML.test(xml)) return false
      const v = parseEnvelope(xml)
      return (
        v.csr.activity_details === asParsed(details) &&
        v.csr.sr_number === asParsed(sr) &&
        v.header.emi === asParsed(emi) &&
        v.csr.id === asParsed(id) &&
        v.csr.csr_activity_id === asParsed(csrId)
      )
    }),
    { numRuns: RUNS }
  )
  t.pass('property held')
})

t.test('record → plan: arbitrary details, names and SR numbers give valid ASCII XML or a clear outcome', async (t) => {
  const nonBlank = text.filter((s) => s.trim() !== '')
  fc.assert(
    fc.property(text, nonBlank, nonBlank, fc.boolean(), (details, sr, code, withCode) => {
      const r = parseActivity(app, sampleRecord(app, { activity_details: details, sr_number: sr, csr_activity_code: withCode ? code : null }))
      if (!r.ok) return false
      const plan = planMessage(app, r.activity, new Date('2026-11-28T23:23:30Z'))
      if (plan.kind !== 'send' || XMLValidator.validate(plan.xml) !== true || !ASCII_XML.test(plan.xml)) return false
      const v = parseEnvelope(plan.xml)
      const expectedDetails = details.trim() === '' ? '' : asParsed(details)
      return v.csr.activity_details === expectedDetails && v.csr.sr_number === asParsed(sr.trim())
    }),
    { numRuns: RUNS }
  )
  t.pass('property held')
})

t.test('parseActivity never throws, whatever JSON arrives', async (t) => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 8 }), (value, extra) => {
      const r1 = parseActivity(app, value)
      const r2 = parseActivity(app, { ...sampleRecord(app), ...extra })
      return (r1.ok || r1.problems.length > 0) && (r2.ok || r2.problems.length > 0)
    }),
    { numRuns: RUNS }
  )
  t.pass('property held')
})

t.test('contentHash is the same for equal content and differs when details differ', async (t) => {
  fc.assert(
    fc.property(text, text, (a, b) => {
      const pa = parseActivity(app, sampleRecord(app, { activity_details: a }))
      const pb = parseActivity(app, sampleRecord(app, { activity_details: b }))
      if (!pa.ok || !pb.ok) return false
      const same = pa.activity.activityDetails === pb.activity.activityDetails
      return (contentHash(pa.activity) === contentHash(pb.activity)) === same
    }),
    { numRuns: RUNS }
  )
  t.pass('property held')
})
