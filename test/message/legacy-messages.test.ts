// Wire compatibility: for 33 records (every activity name of both apps), the message built with
// the shipped app files equals what the City's own sender builds (test/fixtures/legacy-messages,
// copied from shared/reference), element for element and value for value, except exactly the
// differences its README lists: outcome_code since May 2024, and layout.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { loadAppFiles } from '../../src/config/app-files.js'
import type { AppConfig } from '../../src/config/types.js'
import { parseActivity } from '../../src/message/activity.js'
import { planMessage } from '../../src/message/plan.js'
import type { MessagePlan } from '../../src/message/types.js'
import { REAL_APPS_DIR } from '../fixtures/config/helpers.js'
import { diffXmlTrees, elementAt, leafCount, parseXmlTree } from './xml-tree.js'
import type { XmlElement } from './xml-tree.js'

interface LegacyRecord {
  name: string
  app: string
  published: string
  record: Record<string, unknown>
}
type LegacyOutput = { kind: 'send'; xml: string; activityTypeCode: string } | { kind: 'skip'; reason: string }

const fixture = (file: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/legacy-messages/${file}`, import.meta.url), 'utf8'))
const RECORDS = fixture('records.json') as LegacyRecord[]
const LEGACY = fixture('legacy-output.json') as Record<string, LegacyOutput>
const SHIPPED = loadAppFiles(REAL_APPS_DIR, {}, { requireCredentials: false })

const OUTCOME_PATH = ['Body', 'submitKnack', 'data', 'csr', 'outcome_code'] as const
/** The README's one difference in values: the snapshot predates the May 2024 outcome codes. */
const OUTCOME_SINCE_MAY_2024: Record<string, string> = {
  '311 Feedback': 'ADRERECS',
  'Close Issue (Resolved)': 'ISHABRCS',
  'Close Issue (Duplicate)': 'ISHABRCS'
}
/** Values per message: 6 header, 8 csr, and the empty soapenv:Header. */
const LEAVES_PER_MESSAGE = 15

function appOf(entry: LegacyRecord, apps: ReadonlyMap<string, AppConfig> = SHIPPED): AppConfig {
  const app = apps.get(entry.app)
  if (app === undefined) throw new Error(`${entry.name}: no shipped app ${entry.app}`)
  return app
}

function activityName(entry: LegacyRecord): string {
  const value = entry.record[appOf(entry).fields.activity_name]
  if (typeof value !== 'string') throw new Error(`${entry.name}: no activity name`)
  return value
}

/** Our plan for the record, as the worker makes it: parse, then plan at the given publication time. */
function ourPlan(entry: LegacyRecord, app: AppConfig = appOf(entry)): MessagePlan {
  const parsed = parseActivity(app, entry.record)
  if (!parsed.ok) throw new Error(`${entry.name}: ${JSON.stringify(parsed.problems)}`)
  return planMessage(app, parsed.activity, new Date(entry.published))
}

/** The legacy message with the README's listed value differences applied, and nothing else. */
function expectedTree(entry: LegacyRecord, legacyXml: string): { tree: XmlElement; rewritten: boolean } {
  const tree = parseXmlTree(legacyXml)
  const now = OUTCOME_SINCE_MAY_2024[activityName(entry)]
  if (now === undefined) return { tree, rewritten: false }
  const outcome = elementAt(tree, OUTCOME_PATH)
  if (outcome.content !== 'COMPLET1') throw new Error(`${entry.name}: the legacy outcome_code is ${JSON.stringify(outcome.content)}, not COMPLET1`)
  outcome.content = now
  return { tree, rewritten: true }
}

interface Comparison {
  name: string
  kind: { ours: string; legacy: string }
  typeCode?: { ours: string; legacy: string }
  differences: string[]
  leaves: number
  rewritten: boolean
}

/** Compare one record's message with the legacy's: kinds, type codes, and the parsed trees. */
function compare(entry: LegacyRecord, plan: MessagePlan): Comparison {
  const legacy = LEGACY[entry.name]
  if (legacy === undefined) throw new Error(`${entry.name}: not in legacy-output.json`)
  const result: Comparison = { name: entry.name, kind: { ours: plan.kind, legacy: legacy.kind }, differences: [], leaves: 0, rewritten: false }
  if (plan.kind !== 'send' || legacy.kind !== 'send') return result
  result.typeCode = { ours: plan.activityTypeCode, legacy: legacy.activityTypeCode }
  const expected = expectedTree(entry, legacy.xml)
  const ours = parseXmlTree(plan.xml)
  result.differences = diffXmlTrees(ours, expected.tree)
  result.leaves = Math.min(leafCount(ours), leafCount(expected.tree))
  result.rewritten = expected.rewritten
  return result
}

function compareAll(plans: (entry: LegacyRecord) => MessagePlan = (e) => ourPlan(e)): Comparison[] {
  return RECORDS.map((entry) => compare(entry, plans(entry)))
}

t.test('the fixture is whole: 33 records, one legacy output each, both apps', async (t) => {
  t.equal(RECORDS.length, 33)
  t.same(RECORDS.map((r) => r.name).sort(), Object.keys(LEGACY).sort(), 'the same names in both files')
  t.same([...new Set(RECORDS.map((r) => r.app))].sort(), ['data-tracker', 'signs-markings'])
  t.same([...SHIPPED.keys()].sort(), ['data-tracker', 'signs-markings'], 'built with the shipped app files')
  for (const app of SHIPPED.values()) {
    const names = new Set(RECORDS.filter((r) => r.app === app.name).map(activityName))
    t.same([...names].sort(), Object.keys(app.activity_codes).sort(), `${app.name}: every activity name of the app file, once`)
  }
})

t.test('all 33 messages equal the legacy element for element and value for value, but for the listed differences', async (t) => {
  const results = compareAll()
  for (const r of results) {
    t.equal(r.kind.ours, r.kind.legacy, `${r.name}: ${r.kind.legacy}, as the legacy`)
    if (r.typeCode !== undefined) t.equal(r.typeCode.ours, r.typeCode.legacy, `${r.name}: activity type code`)
    t.same(r.differences, [], `${r.name}: no difference`)
    if (r.kind.legacy === 'send') t.equal(r.leaves, LEAVES_PER_MESSAGE, `${r.name}: ${LEAVES_PER_MESSAGE} values compared`)
  }
  const sends = results.filter((r) => r.kind.legacy === 'send')
  t.equal(sends.length, 25, '25 messages compared')
  t.equal(results.length - sends.length, 8, '8 skips compared')
  t.same(
    results.filter((r) => r.rewritten).map((r) => r.name).sort(),
    [
      'data-tracker:name:311 Feedback',
      'data-tracker:name:Close Issue (Duplicate)',
      'data-tracker:name:Close Issue (Resolved)',
      'signs-markings:name:311 Feedback',
      'signs-markings:name:Close Issue (Duplicate)',
      'signs-markings:name:Close Issue (Resolved)'
    ],
    'the outcome_code difference applies to these six, and only these'
  )
})

t.test('skipped records are skipped with the status the legacy set', async (t) => {
  for (const entry of RECORDS) {
    const legacy = LEGACY[entry.name]
    if (legacy?.kind !== 'skip') continue
    const plan = ourPlan(entry)
    t.equal(plan.kind, 'skip', `${entry.name}: skipped`)
    // The legacy's reason is "DO_NOT_SEND (csr_activity_code empty)": the status it wrote to Knack.
    t.equal(legacy.reason.split(' ')[0], appOf(entry).statuses.skipped, `${entry.name}: marked ${appOf(entry).statuses.skipped}`)
  }
})

// The comparison must fail when a value changes: each check below breaks one thing and expects it found.

const sample = RECORDS.find((r) => r.name === 'data-tracker:name:311 Feedback') as LegacyRecord
const sampleXml = (): string => {
  const plan = ourPlan(sample)
  if (plan.kind !== 'send') throw new Error('expected a send')
  return plan.xml
}
const differencesFor = (xml: string): string[] => compare(sample, { kind: 'send', xml, activityTypeCode: '311FEEDB' }).differences

t.test('a changed value, order, name or namespace in our message is found', async (t) => {
  const xml = sampleXml()
  t.same(differencesFor(xml), [], 'unchanged: equal')
  const cases: Array<[string, string, RegExp]> = [
    ['a text value', xml.replace('24-00123410', '24-00123411'), /\/csr\/sr_number: text "24-00123411" where "24-00123410"/],
    ['a space inside a value', xml.replace('<sr_number>24-00123410', '<sr_number> 24-00123410'), /sr_number: text " 24-00123410"/],
    ['white space in an empty value', xml.replace('<csr_activity_id></csr_activity_id>', '<csr_activity_id> </csr_activity_id>'), /csr_activity_id: text " " where ""/],
    ['an empty value filled', xml.replace('<csr_activity_id></csr_activity_id>', '<csr_activity_id>X</csr_activity_id>'), /csr_activity_id: text "X" where ""/],
    ['the timestamp a millisecond later', xml.replace('18:04:05.123000', '18:04:05.124000'), /\/header\/timestamp: text/],
    ['the old local timestamp', xml.replace('2024-01-15T18:04:05.123000+00:00', '2024-01-15T12:04:05-06:00'), /\/header\/timestamp: text/],
    ['two elements swapped', xml.replace('<source>KNACK</source><target>CSR</target>', '<target>CSR</target><source>KNACK</source>'), /\/header: children/],
    ['an element missing', xml.replace('<event>UPDATE</event>', ''), /\/header: children/],
    ['an element added', xml.replace('</csr>', '<extra>1</extra></csr>'), /\/csr: children/],
    ['an element renamed', xml.replace(/<emi>(.*?)<\/emi>/, '<emi_id>$1</emi_id>'), /\/header: children/],
    ['a namespace URI', xml.replace('http://www.austintexas.gov/AcceptKnack/', 'http://example.org/AcceptKnack/'), /acc:submitKnack: namespace "http:\/\/example.org\/AcceptKnack\/"/],
    ['a prefix, same URI', xml.replace(/acc:/g, 'ns1:').replace('xmlns:acc=', 'xmlns:ns1='), /\/soapenv:Body: children \["ns1:submitKnack"\] where \["acc:submitKnack"\]/],
    ['a default namespace on the payload', xml.replace('<header>', '<header xmlns="urn:x">'), /\/header: namespace "urn:x" where null/],
    ['an attribute added', xml.replace('<csr>', '<csr type="x">'), /\/csr: attributes/],
    ['text where an element belongs', xml.replace('<data>', '<data>oops'), /\/data: children/]
  ]
  for (const [label, changed, expected] of cases) {
    t.not(changed, xml, `${label}: the change applied`)
    const found = differencesFor(changed)
    t.ok(found.some((d) => expected.test(d)), `${label}: found (${JSON.stringify(found)})`)
  }
})

t.test('layout alone is not a difference, and the outcome exception is needed', async (t) => {
  const xml = sampleXml()
  const relaid = xml
    .replace(/^<\?xml[^>]*\?>/, '')
    // Before every opening tag, and between closing tags: never inside an element's own text.
    .replace(/>(?=<(?!\/))/g, '>\n  <!-- a comment -->\n  ')
    .replace(/(<\/[\w:]+>)(?=<\/)/g, '$1\n')
    .replace('<soapenv:Header></soapenv:Header>', '<soapenv:Header/>')
  t.match(relaid, /^<soapenv:Envelope[^]*<!-- a comment -->[^]*<soapenv:Header\/>/, 'relaid: no declaration, comments, a self-closing tag')
  t.same(differencesFor(relaid), [], 'declaration, indentation, comments, self-closing: equal')
  // Without the README's exception the 2024 outcome code would not match the snapshot.
  const legacy = LEGACY[sample.name]
  if (legacy?.kind !== 'send') throw new Error('expected a send')
  t.match(diffXmlTrees(parseXmlTree(xml), parseXmlTree(legacy.xml)), [/\/csr\/outcome_code: text "ADRERECS" where "COMPLET1"/])
})

t.test('the whole comparison fails when the app files or the message change', async (t) => {
  const changedApps = (change: (app: AppConfig) => AppConfig) => new Map([...SHIPPED].map(([name, app]) => [name, change(app)]))
  const failing = (results: Comparison[]) =>
    results.filter((r) => r.differences.length > 0 || r.kind.ours !== r.kind.legacy || r.typeCode?.ours !== r.typeCode?.legacy).map((r) => r.name)

  const noOutcomes = changedApps((app) => ({ ...app, outcome_codes: {} }))
  t.equal(failing(compareAll((e) => ourPlan(e, appOf(e, noOutcomes)))).length, 6, 'without outcome_codes: the six records with their own outcome differ')

  const otherCode = changedApps((app) => ({ ...app, activity_codes: { ...app.activity_codes, 'Identify Asset': 'IDENTIFY' } }))
  t.same(failing(compareAll((e) => ourPlan(e, appOf(e, otherCode)))), ['data-tracker:name:Identify Asset'], 'one changed activity code: that record differs')

  const sendAll = changedApps((app) => ({ ...app, activity_codes: Object.fromEntries(Object.entries(app.activity_codes).map(([k, v]) => [k, v ?? 'SENDALL1'])) }))
  t.equal(failing(compareAll((e) => ourPlan(e, appOf(e, sendAll)))).length, 8, 'sending what the legacy skipped: the eight skips differ')

  const localTime = compareAll((e) => {
    const plan = ourPlan(e)
    return plan.kind === 'send' ? { ...plan, xml: plan.xml.replace(/\+00:00<\/timestamp>/, '+00:01</timestamp>') } : plan
  })
  t.equal(failing(localTime).length, 25, 'a timestamp off by its offset: every message differs')

  const standardTimeLost = compareAll((e) => {
    const plan = ourPlan(e)
    return plan.kind === 'send' ? { ...plan, xml: plan.xml.replace(/-06:00<\/activity_date>/, '-05:00</activity_date>') } : plan
  })
  t.ok(failing(standardTimeLost).length >= 10, 'a winter activity date sent with the summer offset: those messages differ')
})
