// outcome_code per activity since May 2024 (reference/apps.md "Outcome codes"), from the app files.
import t from 'tap'
import { loadAppFiles, parseAppFile } from '../../src/config/app-files.js'
import type { AppConfig } from '../../src/config/types.js'
import { parseActivity } from '../../src/message/activity.js'
import { outcomeCode, planMessage } from '../../src/message/plan.js'
import { parseEnvelope } from '../../src/message/soap.js'
import type { Activity } from '../../src/message/types.js'
import { REAL_APPS_DIR, validAppFile } from '../fixtures/config/helpers.js'
import { dataTrackerApp, sampleRecord } from './records.js'

const SHIPPED = loadAppFiles(REAL_APPS_DIR, {}, { requireCredentials: false })
const PUBLISHED = new Date('2024-06-03T14:00:00.250Z')

/** apps.md, written out by hand: the same in both apps. */
const PRODUCTION: Record<string, string> = {
  '311 Feedback': 'ADRERECS',
  'Close Issue (Resolved)': 'ISHABRCS',
  'Close Issue (Duplicate)': 'ISHABRCS'
}

function activity(app: AppConfig, overrides: Record<string, unknown> = {}): Activity {
  const r = parseActivity(app, sampleRecord(app, overrides))
  if (!r.ok) throw new Error(JSON.stringify(r.problems))
  return r.activity
}

/** The outcome_code element of the message the activity becomes. */
function sentOutcome(app: AppConfig, overrides: Record<string, unknown>): string {
  const plan = planMessage(app, activity(app, overrides), PUBLISHED)
  if (plan.kind !== 'send') throw new Error(`expected send, got ${plan.reason}`)
  return parseEnvelope(plan.xml).csr.outcome_code
}

const shipped = (name: string): AppConfig => {
  const app = SHIPPED.get(name)
  if (app === undefined) throw new Error(`config/apps has no ${name}.json`)
  return app
}

t.test('both shipped app files carry the production outcome codes', async (t) => {
  t.same([...SHIPPED.keys()].sort(), ['data-tracker', 'signs-markings'])
  for (const app of SHIPPED.values()) {
    t.same(app.outcome_codes, PRODUCTION, `${app.name}: outcome_codes`)
    t.equal(app.outcome_code, 'COMPLET1', `${app.name}: the default`)
  }
})

t.test('every activity each shipped app sends gets its outcome code in the message', async (t) => {
  for (const name of ['data-tracker', 'signs-markings']) {
    const app = shipped(name)
    const sent = Object.entries(app.activity_codes).filter(([, code]) => code !== null)
    t.ok(sent.length >= 8, `${name}: ${sent.length} activities sent`)
    for (const [activityName] of sent) {
      t.equal(sentOutcome(app, { activity_name: activityName }), PRODUCTION[activityName] ?? 'COMPLET1', `${name}: ${activityName}`)
    }
    // Each listed name is one the app really sends: a typo in a key would never match.
    for (const listed of Object.keys(app.outcome_codes)) t.ok(typeof app.activity_codes[listed] === 'string', `${name}: "${listed}" is a sent activity`)
  }
})

t.test('activity names are compared after trimming and collapsing white space', async (t) => {
  for (const name of ['data-tracker', 'signs-markings']) {
    const app = shipped(name)
    t.equal(sentOutcome(app, { activity_name: '  311   Feedback ' }), 'ADRERECS', `${name}: stray and doubled spaces`)
    t.equal(sentOutcome(app, { activity_name: 'Close  Issue (Resolved)\t' }), 'ISHABRCS', `${name}: a doubled space and a tab`)
    t.equal(sentOutcome(app, { activity_name: '\nClose Issue\u00a0(Duplicate)' }), 'ISHABRCS', `${name}: a newline and a no-break space`)
    t.equal(sentOutcome(app, { activity_name: ' Dispatch   Technician' + (name === 'signs-markings' ? '/Crew' : '') }), 'COMPLET1', `${name}: others keep the default`)
  }
  // Keys with stray spaces, in an app file or an AppConfig built in code, match too.
  const file = { ...validAppFile(), outcome_codes: { ' 311  Feedback ': 'ADRERECS', 'Close Issue  (Resolved)': 'ISHABRCS' } }
  const loaded = parseAppFile('data-tracker', file, {}, { requireCredentials: false })
  t.equal(sentOutcome(loaded, { activity_name: '311 Feedback' }), 'ADRERECS', 'app file key with spaces')
  t.equal(sentOutcome(loaded, { activity_name: 'Close Issue (Resolved)' }), 'ISHABRCS', 'app file key with a doubled space')
  const inCode: AppConfig = { ...dataTrackerApp(), outcome_codes: { '  Close   Issue (Duplicate)': 'ISHABRCS' } }
  t.equal(sentOutcome(inCode, { activity_name: 'Close Issue (Duplicate) ' }), 'ISHABRCS', 'AppConfig key with spaces')
})

t.test("any other activity gets the app's outcome_code", async (t) => {
  const app: AppConfig = { ...shipped('data-tracker'), outcome_code: 'OTHER001' }
  t.equal(sentOutcome(app, { activity_name: 'Identify Asset' }), 'OTHER001', 'the default follows the app file')
  t.equal(sentOutcome(app, { activity_name: '311 Feedback' }), 'ADRERECS', 'listed names keep their own')
  const none: AppConfig = { ...dataTrackerApp(), outcome_codes: {} }
  t.equal(sentOutcome(none, { activity_name: '311 Feedback' }), 'COMPLET1', 'no outcome_codes: the default for every activity')
  t.equal(sentOutcome(none, { activity_name: 'Close Issue (Resolved)' }), 'COMPLET1')
  t.equal(outcomeCode(none, { ...activity(none), activityName: null }), 'COMPLET1', 'no name at all')
  t.equal(outcomeCode(shipped('data-tracker'), { ...activity(none), activityName: 'constructor' }), 'COMPLET1', 'no prototype lookups')
  t.equal(outcomeCode(shipped('data-tracker'), { ...activity(none), activityName: '311 feedback' }), 'COMPLET1', 'names are case-sensitive, as in activity_codes')
})

t.test('the outcome follows the activity name even when csr_activity_code sets the type code', async (t) => {
  const app = shipped('signs-markings')
  const plan = planMessage(app, activity(app, { activity_name: 'Close Issue (Resolved)', csr_activity_code: 'PAGE0001' }), PUBLISHED)
  if (plan.kind !== 'send') throw new Error('expected send')
  const { csr } = parseEnvelope(plan.xml)
  t.same([csr.activity_type_code, csr.outcome_code], ['PAGE0001', 'ISHABRCS'])
})
