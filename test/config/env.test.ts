import t from 'tap'
import { readEnv } from '../../src/config/env.js'
import { configMessage, tempDir, writeFiles } from '../fixtures/config/helpers.js'

t.test('every default', async (t) => {
  const s = readEnv({}, { cwd: tempDir(t) })
  t.equal(s.knackApiUrl, 'https://api.knack.com/v1')
  t.equal(s.knackAppId, undefined)
  t.equal(s.knackApiKey, undefined)
  t.equal(s.esbEndpoint, undefined)
  t.equal(s.esbCert, 'certs/esb.cert')
  t.equal(s.esbKey, 'certs/esb.pem')
  t.equal(s.esbCa, undefined)
  t.equal(s.esbTimeoutMs, 30_000)
  t.equal(s.webhookSecret, undefined)
  t.equal(s.adminToken, undefined)
  t.equal(s.databaseUrl, 'sqlite:data/knack311.sqlite')
  t.same(s.retryScheduleMs, [30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000])
  t.equal(s.knackRateLimit, 10)
  t.equal(s.knackArrivalSpreadMs, 20)
  t.equal(s.sweepIntervalMs, undefined)
  t.equal(s.port, 3000)
  t.equal(s.host, '0.0.0.0')
  t.equal(s.logLevel, 'info')
  t.equal(s.leaseMs, 120_000)
  t.equal(s.workerConcurrency, 16)
  t.equal(s.appsDir, 'config/apps')
})

t.test('ESB_ENDPOINT is kept exactly: the gateway listens at …/submitKnack/, trailing slash included', async (t) => {
  const s = readEnv({ ESB_ENDPOINT: 'https://gateway.example:2443/ws/rest/v1/knack/submitKnack/' }, { cwd: tempDir(t) })
  t.equal(s.esbEndpoint, 'https://gateway.example:2443/ws/rest/v1/knack/submitKnack/')
})

t.test('values given are typed', async (t) => {
  const s = readEnv(
    {
      KNACK_API_URL: 'http://127.0.0.1:9999/v1/',
      ESB_ENDPOINT: 'https://esb.example/soap',
      ESB_TIMEOUT: '1500ms',
      DATABASE_URL: 'postgresql://u:p@db/knack',
      RETRY_SCHEDULE: '1s,5s',
      KNACK_RATE_LIMIT: '2.5',
      KNACK_ARRIVAL_SPREAD: '0ms',
      SWEEP_INTERVAL: '5m',
      PORT: '0',
      LOG_LEVEL: 'debug',
      LEASE_DURATION: '45s',
      WORKER_CONCURRENCY: '4',
      ESB_CA: 'certs/ca.pem'
    },
    { cwd: tempDir(t) }
  )
  t.equal(s.knackApiUrl, 'http://127.0.0.1:9999/v1', 'trailing slash dropped')
  t.equal(s.esbEndpoint, 'https://esb.example/soap')
  t.equal(s.esbTimeoutMs, 1500)
  t.equal(s.databaseUrl, 'postgresql://u:p@db/knack')
  t.same(s.retryScheduleMs, [1000, 5000])
  t.equal(s.knackRateLimit, 2.5)
  t.equal(s.knackArrivalSpreadMs, 0, 'no spread is allowed (a network that delays every request alike)')
  t.equal(s.sweepIntervalMs, 300_000)
  t.equal(s.port, 0)
  t.equal(s.logLevel, 'debug')
  t.equal(s.leaseMs, 45_000)
  t.equal(s.workerConcurrency, 4)
  t.equal(s.esbCa, 'certs/ca.pem')
})

t.test('accepted database URLs', async (t) => {
  const cwd = tempDir(t)
  for (const url of ['sqlite:data/x.sqlite', 'sqlite::memory:', 'sqlite:/abs/x.db', 'postgres://h/db', 'postgresql://u:p@h:5432/db']) {
    t.equal(readEnv({ DATABASE_URL: url }, { cwd }).databaseUrl, url)
  }
})

t.test('an empty variable counts as not set', async (t) => {
  const s = readEnv({ PORT: '', ESB_TIMEOUT: '  ', ESB_CA: '' }, { cwd: tempDir(t) })
  t.equal(s.port, 3000)
  t.equal(s.esbTimeoutMs, 30_000)
  t.equal(s.esbCa, undefined)
  t.equal(configMessage(() => readEnv({ ADMIN_TOKEN: '' }, { cwd: tempDir(t), required: ['ADMIN_TOKEN'] })), 'ADMIN_TOKEN: is required but not set')
})

t.test('each bad value stops with one line naming the variable', async (t) => {
  const cwd = tempDir(t)
  const cases: Array<[Record<string, string>, string]> = [
    [{ ESB_TIMEOUT: 'abc' }, 'ESB_TIMEOUT: "abc" is not a duration (use ms, s, m, h, d)'],
    [{ ESB_TIMEOUT: '30' }, 'ESB_TIMEOUT: "30" is not a duration (use ms, s, m, h, d)'],
    [{ ESB_TIMEOUT: '0s' }, 'ESB_TIMEOUT: "0s" must be longer than zero'],
    [{ LEASE_DURATION: '2 days' }, 'LEASE_DURATION: "2 days" is not a duration (use ms, s, m, h, d)'],
    [{ LEASE_DURATION: '20s' }, 'LEASE_DURATION: "20s" must be longer than ESB_TIMEOUT (30s)'],
    [{ LEASE_DURATION: '5s', ESB_TIMEOUT: '5s' }, 'LEASE_DURATION: "5s" must be longer than ESB_TIMEOUT (5s)'],
    [{ SWEEP_INTERVAL: 'hourly' }, 'SWEEP_INTERVAL: "hourly" is not a duration (use ms, s, m, h, d)'],
    [{ RETRY_SCHEDULE: '30s,soon' }, 'RETRY_SCHEDULE: item 2: "soon" is not a duration (use ms, s, m, h, d)'],
    [{ DATABASE_URL: 'data/x.sqlite' }, 'DATABASE_URL: "data/x.sqlite" is not sqlite:<path>, sqlite::memory: or postgres://…'],
    [{ DATABASE_URL: 'sqlite:' }, 'DATABASE_URL: "sqlite:…" is not sqlite:<path>, sqlite::memory: or postgres://…'],
    [{ KNACK_RATE_LIMIT: '0' }, 'KNACK_RATE_LIMIT: "0" is not a number above 0 (requests per second)'],
    [{ KNACK_RATE_LIMIT: 'fast' }, 'KNACK_RATE_LIMIT: "fast" is not a number above 0 (requests per second)'],
    [{ KNACK_ARRIVAL_SPREAD: '20' }, 'KNACK_ARRIVAL_SPREAD: "20" is not a duration (use ms, s, m, h, d)'],
    [{ KNACK_ARRIVAL_SPREAD: '1s' }, 'KNACK_ARRIVAL_SPREAD: "1s" is more than 500ms (it is added to every 1 s window)'],
    [{ PORT: '70000' }, 'PORT: "70000" is not a whole number from 0 to 65535'],
    [{ PORT: '80.5' }, 'PORT: "80.5" is not a whole number from 0 to 65535'],
    [{ WORKER_CONCURRENCY: '0' }, 'WORKER_CONCURRENCY: "0" is not a whole number of 1 or more'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL: "loud" is not one of fatal, error, warn, info, debug, trace, silent'],
    [{ KNACK_API_URL: 'api.knack.com' }, 'KNACK_API_URL: "api.knack.com" is not a URL'],
    [{ ESB_ENDPOINT: 'http://esb.example/soap' }, 'ESB_ENDPOINT: "http://esb.example/soap" must be an https URL']
  ]
  for (const [env, message] of cases) {
    t.equal(configMessage(() => readEnv(env, { cwd })), message, JSON.stringify(env))
  }
})

t.test('a database password is never echoed', async (t) => {
  const message = configMessage(() => readEnv({ DATABASE_URL: 'mysql://knack:hunter2@db/knack' }, { cwd: tempDir(t) }))
  t.equal(message, 'DATABASE_URL: "mysql:…" is not sqlite:<path>, sqlite::memory: or postgres://…')
  t.notMatch(message, /hunter2/)
})

t.test('several problems come on one line, in the order of the table', async (t) => {
  const message = configMessage(() =>
    readEnv({ PORT: 'x', ESB_TIMEOUT: 'abc' }, { cwd: tempDir(t), required: ['WEBHOOK_SECRET', 'ESB_ENDPOINT'] })
  )
  t.equal(
    message,
    'ESB_ENDPOINT: is required but not set; ESB_TIMEOUT: "abc" is not a duration (use ms, s, m, h, d); ' +
      'WEBHOOK_SECRET: is required but not set; PORT: "x" is not a whole number from 0 to 65535'
  )
})

t.test('.env is read but never overrides the real environment', async (t) => {
  const cwd = writeFiles(tempDir(t), {
    '.env': 'PORT=4000\nHOST=127.0.0.1\nKNACK_APP_ID=from-file\nSIGNS_KNACK_KEY=file-key\n# a comment\nKNACK311_TEST_ONLY=1\n'
  })
  const s = readEnv({ PORT: '5000', KNACK_APP_ID: 'from-env' }, { cwd })
  t.equal(s.port, 5000, 'the real environment wins')
  t.equal(s.knackAppId, 'from-env')
  t.equal(s.host, '127.0.0.1', 'a variable only in .env is used')
  t.equal(s.vars.SIGNS_KNACK_KEY, 'file-key', 'other variables stay available for app credentials')
  t.equal(process.env.KNACK311_TEST_ONLY, undefined, 'process.env is not written')
  t.equal(readEnv({}, { cwd: tempDir(t) }).port, 3000, 'no .env, no change')
})

t.test('a bad value in .env is reported like any other', async (t) => {
  const cwd = writeFiles(tempDir(t), { '.env': 'SWEEP_INTERVAL=often\n' })
  t.equal(configMessage(() => readEnv({}, { cwd })), 'SWEEP_INTERVAL: "often" is not a duration (use ms, s, m, h, d)')
})

t.test('the ESB, webhook, operator, retention and alert variables: defaults', async (t) => {
  const s = readEnv({}, { cwd: tempDir(t) })
  t.equal(s.esbAuth, 'mtls')
  t.equal(s.esbPauseAfter, 5)
  t.equal(s.esbProbeEveryMs, 30_000)
  t.equal(s.webhookVerify, true)
  t.same(s.operators, [])
  t.equal(s.publicUrl, undefined)
  t.equal(s.retentionMs, 90 * 86_400_000, 'RETENTION 90d')
  t.same(s.alertEmailTo, [])
  t.equal(s.alertStuckAfterMs, 3_600_000)
  t.equal(s.alertGroupWindowMs, 120_000, 'ALERT_GROUP_WINDOW 2m')
  t.equal(s.digestAt, undefined)
  t.equal(s.smtpUrl, undefined)
})

t.test('the ESB, webhook, operator, retention and alert variables: values', async (t) => {
  const s = readEnv(
    {
      ESB_AUTH: 'mtls+basic',
      ESB_USERNAME: 'knack',
      ESB_PASSWORD: 'pw-1234',
      ESB_PAUSE_AFTER: '3',
      ESB_PROBE_EVERY: '10s',
      WEBHOOK_VERIFY: 'false',
      ADMIN_TOKEN: 'admin-token-0000',
      OPERATOR_TOKENS: 'ana:ana-token-123456, ben.k:ben-token-7890ab',
      PUBLIC_URL: 'https://knack311.example.org/',
      RETENTION: 'off',
      ALERT_SLACK_URL: 'https://hooks.slack.com/services/T0/B0/xyz',
      ALERT_TEAMS_URL: 'https://prod.westus.logic.azure.com/workflows/abc',
      ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/alerts',
      SMTP_URL: 'smtps://user:pass@mail.example.org:465',
      ALERT_EMAIL_FROM: 'knack311@example.org',
      ALERT_EMAIL_TO: 'a@example.org, b@example.org',
      ALERT_STUCK_AFTER: '2h',
      ALERT_GROUP_WINDOW: '30s',
      DIGEST_AT: '07:30'
    },
    { cwd: tempDir(t), esb: true }
  )
  t.equal(s.esbAuth, 'mtls+basic')
  t.equal(s.esbUsername, 'knack')
  t.equal(s.esbPassword, 'pw-1234')
  t.equal(s.esbPauseAfter, 3)
  t.equal(s.esbProbeEveryMs, 10_000)
  t.equal(s.webhookVerify, false)
  t.same(s.operators, [
    { name: 'ana', token: 'ana-token-123456' },
    { name: 'ben.k', token: 'ben-token-7890ab' }
  ])
  t.equal(s.publicUrl, 'https://knack311.example.org', 'trailing slash dropped')
  t.equal(s.retentionMs, null, 'off keeps everything')
  t.equal(s.alertSlackUrl, 'https://hooks.slack.com/services/T0/B0/xyz')
  t.equal(s.alertTeamsUrl, 'https://prod.westus.logic.azure.com/workflows/abc')
  t.equal(s.alertWebhookUrl, 'http://127.0.0.1:9/alerts')
  t.equal(s.smtpUrl, 'smtps://user:pass@mail.example.org:465')
  t.equal(s.alertEmailFrom, 'knack311@example.org')
  t.same(s.alertEmailTo, ['a@example.org', 'b@example.org'])
  t.equal(s.alertStuckAfterMs, 7_200_000)
  t.equal(s.alertGroupWindowMs, 30_000)
  t.same(s.digestAt, { hour: 7, minute: 30 })
})

t.test('the new variables: each bad value stops with one line naming it, secrets unshown', async (t) => {
  const cwd = tempDir(t)
  const cases: Array<[Record<string, string>, string]> = [
    [{ ESB_AUTH: 'oauth' }, 'ESB_AUTH: "oauth" is not one of mtls, basic, mtls+basic'],
    [{ ESB_PAUSE_AFTER: '0' }, 'ESB_PAUSE_AFTER: "0" is not a whole number of 1 or more (consecutive endpoint failures)'],
    [{ ESB_PROBE_EVERY: 'sometimes' }, 'ESB_PROBE_EVERY: "sometimes" is not a duration (use ms, s, m, h, d)'],
    [{ WEBHOOK_VERIFY: 'maybe' }, 'WEBHOOK_VERIFY: "maybe" is not true or false'],
    [{ PUBLIC_URL: 'knack311.example.org' }, 'PUBLIC_URL: "knack311.example.org" is not a URL'],
    [{ RETENTION: 'forever' }, 'RETENTION: "forever" is not a duration (use ms, s, m, h, d)'],
    [{ RETENTION: '0d' }, 'RETENTION: "0d" must be longer than zero'],
    [{ ALERT_STUCK_AFTER: '0s' }, 'ALERT_STUCK_AFTER: "0s" must be longer than zero'],
    [{ ALERT_GROUP_WINDOW: 'soon' }, 'ALERT_GROUP_WINDOW: "soon" is not a duration (use ms, s, m, h, d)'],
    [{ ALERT_GROUP_WINDOW: '0s' }, 'ALERT_GROUP_WINDOW: "0s" must be longer than zero'],
    [{ DIGEST_AT: '7am' }, 'DIGEST_AT: "7am" is not a time of day (HH:MM, 24-hour, e.g. 07:00)'],
    [{ DIGEST_AT: '24:00' }, 'DIGEST_AT: "24:00" is not a time of day (HH:MM, 24-hour, e.g. 07:00)'],
    [{ ALERT_SLACK_URL: 'hooks.slack.com/services/SECRET' }, 'ALERT_SLACK_URL: is not a URL (value not shown: it may hold a secret)'],
    [{ ALERT_TEAMS_URL: 'ftp://teams.example/SECRET' }, 'ALERT_TEAMS_URL: must be a https or http URL, not ftp'],
    [{ SMTP_URL: 'https://u:SECRET@mail.example' }, 'SMTP_URL: must be a smtp or smtps URL, not https'],
    [{ SMTP_URL: 'smtp://mail.example' }, 'ALERT_EMAIL_FROM: is required when SMTP_URL is set; ALERT_EMAIL_TO: is required when SMTP_URL is set'],
    [{ ALERT_EMAIL_TO: 'a@example.org' }, 'ALERT_EMAIL_TO: is set but SMTP_URL is not (e-mail alerts need a server)'],
    [{ SMTP_URL: 'smtp://m.example', ALERT_EMAIL_FROM: 'a@x.org', ALERT_EMAIL_TO: 'b@x.org, nobody' }, 'ALERT_EMAIL_TO: item 2: "nobody" is not an e-mail address'],
    [{ SMTP_URL: 'smtp://m.example', ALERT_EMAIL_FROM: 'a@x.org, c@x.org', ALERT_EMAIL_TO: 'b@x.org' }, 'ALERT_EMAIL_FROM: "a@x.org, c@x.org" is not one e-mail address'],
    [{ OPERATOR_TOKENS: 'ana' }, 'OPERATOR_TOKENS: is not name:token'],
    [{ OPERATOR_TOKENS: 'ana:SECRET-TOKEN-1,ana:SECRET-TOKEN-2' }, 'OPERATOR_TOKENS: item 2: the name ana is given twice'],
    [{ OPERATOR_TOKENS: 'ana:SECRET-TOKEN-1,ben:SECRET-TOKEN-1' }, "OPERATOR_TOKENS: item 2: the token of ben is also another operator's"],
    [{ OPERATOR_TOKENS: 'ana:short' }, 'OPERATOR_TOKENS: the token of ana is shorter than 12 characters'],
    [{ OPERATOR_TOKENS: 'admin:SECRET-TOKEN-1' }, 'OPERATOR_TOKENS: the name "admin" is ADMIN_TOKEN\'s; choose another'],
    [{ OPERATOR_TOKENS: 'a b:SECRET-TOKEN-1' }, 'OPERATOR_TOKENS: the name "a b" may hold only letters, digits, . _ @ - (at most 64)'],
    [{ ADMIN_TOKEN: 'SECRET-TOKEN-1', OPERATOR_TOKENS: 'ana:SECRET-TOKEN-1' }, "OPERATOR_TOKENS: the token of ana is ADMIN_TOKEN's"]
  ]
  for (const [env, message] of cases) {
    const got = configMessage(() => readEnv(env, { cwd }))
    t.equal(got, message, JSON.stringify(env))
    t.notMatch(got, /SECRET/, 'no secret in the message')
  }
})

t.test('Basic credentials are required only where the service talks to the ESB', async (t) => {
  const cwd = tempDir(t)
  t.equal(
    configMessage(() => readEnv({ ESB_AUTH: 'basic' }, { cwd, esb: true })),
    'ESB_USERNAME: is required when ESB_AUTH is basic; ESB_PASSWORD: is required when ESB_AUTH is basic'
  )
  t.equal(configMessage(() => readEnv({ ESB_AUTH: 'mtls+basic', ESB_USERNAME: 'u' }, { cwd, esb: true })), 'ESB_PASSWORD: is required when ESB_AUTH is mtls+basic')
  t.equal(readEnv({ ESB_AUTH: 'basic' }, { cwd }).esbAuth, 'basic', 'preview and check do not need them')
  t.equal(readEnv({}, { cwd, esb: true }).esbUsername, undefined, 'mtls needs none')
})
