import t from 'tap'
import { join } from 'node:path'
import { loadAppFiles, normalizeActivityName, parseAppFile } from '../../src/config/app-files.js'
import { FIELD_VARIABLES } from '../../src/config/types.js'
import { REAL_APPS_DIR, configMessage, tempDir, validAppFile, writeFiles } from '../fixtures/config/helpers.js'

const CREDS = { KNACK_APP_ID: 'app-id', KNACK_API_KEY: 'api-key' }

t.test('both real app files load with the values of reference/apps.md', async (t) => {
  const apps = loadAppFiles(REAL_APPS_DIR, CREDS)
  t.same([...apps.keys()], ['data-tracker', 'signs-markings'])
  const dt = apps.get('data-tracker')
  const sm = apps.get('signs-markings')
  if (dt === undefined || sm === undefined) throw new Error('apps missing')
  t.match(dt, { name: 'data-tracker', obj: 'object_75', scene: 'scene_514', view: 'view_1653', timezone: 'America/Chicago' })
  t.match(sm, { name: 'signs-markings', obj: 'object_173', scene: 'scene_1228', view: 'view_3052', timezone: 'America/Chicago' })
  t.same(dt.fields, {
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
  })
  t.same(sm.fields, {
    id: 'id',
    atd_activity_id: 'field_3143',
    emi_id: 'field_3163',
    sr_number: 'field_3154',
    issue_status_code_snapshot: 'field_3160',
    esb_status: 'field_3164',
    activity_datetime: 'field_3145',
    activity_details: 'field_3147',
    activity_name: 'field_3144',
    csr_activity_id: 'field_4321',
    csr_activity_code: 'field_4322'
  })
  t.equal(Object.keys(dt.activity_codes).length, 23)
  t.equal(Object.keys(sm.activity_codes).length, 10)
  t.equal(dt.activity_codes['Assign to TMC'], 'RETOMOMC')
  t.equal(dt.activity_codes['Remote Monitor Reset - Unsuccessful'], 'REMOR001')
  t.equal(dt.activity_codes['Send Email'], null, 'data-tracker does not send emails')
  t.equal(sm.activity_codes['Send Email'], 'CONTACT', 'signs-markings does')
  t.equal(sm.activity_codes['Dispatch Technician/Crew'], 'DISPATC2')
  for (const app of [dt, sm]) {
    t.same(app.status_rewrites, { closed_duplicate: 'closed_resolved' })
    t.same(app.statuses, { ready: 'READY_TO_SEND', sent: 'SENT', skipped: 'DO_NOT_SEND' })
    t.equal(app.outcome_code, 'COMPLET1')
    t.same(app.credentials, { appId: 'app-id', apiKey: 'api-key' })
  }
})

t.test('defaults for the optional keys', async (t) => {
  const file = validAppFile()
  delete file.status_rewrites
  delete file.statuses
  delete file.outcome_code
  const app = parseAppFile('x', file, CREDS)
  t.same(app.status_rewrites, {})
  t.same(app.statuses, { ready: 'READY_TO_SEND', sent: 'SENT', skipped: 'DO_NOT_SEND' })
  t.equal(app.outcome_code, 'COMPLET1')
  const partial = parseAppFile('x', { ...file, statuses: { failed: 'ESB_FAILED' } }, CREDS)
  t.same(partial.statuses, { ready: 'READY_TO_SEND', sent: 'SENT', skipped: 'DO_NOT_SEND', failed: 'ESB_FAILED' })
})

t.test('activity names are normalised; the same name twice must agree', async (t) => {
  t.equal(normalizeActivityName('  Close \t Issue\n(Resolved) '), 'Close Issue (Resolved)')
  const file = validAppFile()
  file.activity_codes = { ' Adjust   Timing ': 'ADJUTIMI', 'Adjust Timing': 'ADJUTIMI', Other: null }
  t.same(parseAppFile('x', file, CREDS).activity_codes, { 'Adjust Timing': 'ADJUTIMI', Other: null })
  file.activity_codes = { 'Adjust Timing': 'ADJUTIMI', 'Adjust  Timing': 'REPACOMP' }
  t.equal(
    configMessage(() => parseAppFile('x', file, CREDS)),
    'x.json: activity_codes["Adjust  Timing"]: is the same activity as "Adjust Timing" with another code ("REPACOMP" vs "ADJUTIMI")'
  )
})

t.test('each bad key stops with one line naming the file and key', async (t) => {
  const cases: Array<[string, (f: ReturnType<typeof validAppFile>) => void, string]> = [
    ['bad obj', (f) => (f.obj = 'objet_75'), 'obj: "objet_75" is not a object_<n> id'],
    ['missing view', (f) => delete f.view, 'view: is required'],
    ['unknown key', (f) => (f.objects = 'object_75'), 'objects: unknown key'],
    ['unknown field variable', (f) => (f.fields.emi = 'field_1'), 'fields.emi: unknown key'],
    ['missing field variable', (f) => delete f.fields.csr_activity_code, 'fields.csr_activity_code: is required'],
    ['field id not field_<n>', (f) => (f.fields.sr_number = '1232'), 'fields.sr_number: "1232" is not a field_<n> id'],
    ['id not id', (f) => (f.fields.id = 'field_1'), 'fields.id: must be "id"'],
    ['duplicated field id', (f) => (f.fields.emi_id = 'field_1232'), 'fields.emi_id: field id "field_1232" is also used by sr_number'],
    ['bad timezone', (f) => (f.timezone = 'America/Chicag'), 'timezone: "America/Chicag" is not an IANA time zone (e.g. America/Chicago)'],
    ['an unknown zone name', (f) => (f.timezone = 'CST6CDTX'), 'timezone: "CST6CDTX" is not an IANA time zone (e.g. America/Chicago)'],
    ['code not text', (f) => ((f.activity_codes as Record<string, unknown>).Other = 7), 'activity_codes.Other: must be a CSR code or null (do not send)'],
    ['no activities', (f) => (f.activity_codes = {}), 'activity_codes: lists no activity'],
    ['unknown status', (f) => (f.statuses = { ready: 'R', done: 'D' }), 'statuses.done: unknown key'],
    ['bad outcome code', (f) => (f.outcome_code = 'COMPLETE 1'), 'outcome_code: "COMPLETE 1" is not a code (text without spaces)'],
    ['credentials incomplete', (f) => (f.credentials = { app_id_env: 'A' }), 'credentials.api_key_env: is required'],
    ['fields not an object', (f) => ((f as Record<string, unknown>).fields = []), 'fields: must be an object, not an array']
  ]
  for (const [label, change, message] of cases) {
    const file = validAppFile()
    change(file)
    t.equal(configMessage(() => parseAppFile('data-tracker', file, CREDS)), `data-tracker.json: ${message}`, label)
  }
})

t.test('every field variable is required', async (t) => {
  for (const variable of FIELD_VARIABLES) {
    const file = validAppFile()
    delete file.fields[variable]
    t.equal(configMessage(() => parseAppFile('a', file, CREDS)), `a.json: fields.${variable}: is required`)
  }
})

t.test('loading a directory: file names in messages, bad JSON, no files', async (t) => {
  const cwd = tempDir(t)
  writeFiles(join(cwd, 'config/apps'), { 'data-tracker.json': { ...validAppFile(), fields: { ...validAppFile().fields, emi_id: 'field_1232' } } })
  t.equal(
    configMessage(() => loadAppFiles('config/apps', CREDS, { cwd })),
    'config/apps/data-tracker.json: fields.emi_id: field id "field_1232" is also used by sr_number'
  )
  writeFiles(join(cwd, 'broken'), { 'a.json': '{ "obj": "object_1", }' })
  t.match(configMessage(() => loadAppFiles('broken', CREDS, { cwd })), /^broken\/a\.json: not valid JSON \(.+\)$/)
  writeFiles(join(cwd, 'empty'), { 'README.md': 'no apps here' })
  t.equal(configMessage(() => loadAppFiles('empty', CREDS, { cwd })), 'APPS_DIR: empty holds no *.json app file')
  t.equal(configMessage(() => loadAppFiles('missing', CREDS, { cwd })), 'APPS_DIR: cannot read missing (ENOENT)')
  writeFiles(join(cwd, 'names'), { 'data tracker.json': validAppFile() })
  t.match(configMessage(() => loadAppFiles('names', CREDS, { cwd })), /^names\/data tracker\.json: the app name "data tracker" may hold only/)
  writeFiles(join(cwd, 'mixed'), { 'one.json': validAppFile(), 'notes.txt': 'ignored' })
  t.same([...loadAppFiles('mixed', CREDS, { cwd }).keys()], ['one'])
})

t.test('credentials: named variables, else the defaults, else an error unless not required', async (t) => {
  const own = { ...validAppFile(), credentials: { app_id_env: 'SIGNS_APP_ID', api_key_env: 'SIGNS_API_KEY' } }
  const env = { ...CREDS, SIGNS_APP_ID: 'signs-id', SIGNS_API_KEY: 'signs-key' }
  t.same(parseAppFile('a', own, env).credentials, { appId: 'signs-id', apiKey: 'signs-key' })
  t.same(parseAppFile('a', validAppFile(), env).credentials, { appId: 'app-id', apiKey: 'api-key' })
  const missingOwn = configMessage(() => parseAppFile('a', own, { ...CREDS, SIGNS_APP_ID: 'signs-id' }))
  t.equal(missingOwn, 'SIGNS_API_KEY: required but not set (named by a.json credentials)')
  t.equal(
    configMessage(() => parseAppFile('a', validAppFile(), {})),
    'KNACK_APP_ID, KNACK_API_KEY: required but not set (the Knack credentials of a.json)'
  )
  t.same(parseAppFile('a', validAppFile(), {}, { requireCredentials: false }).credentials, { appId: '', apiKey: '' })
  t.notMatch(configMessage(() => parseAppFile('a', validAppFile(), { KNACK_APP_ID: 'secret-id' })), /secret-id/)
})
