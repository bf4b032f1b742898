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
  t.equal(s.sweepIntervalMs, undefined)
  t.equal(s.port, 3000)
  t.equal(s.host, '0.0.0.0')
  t.equal(s.logLevel, 'info')
  t.equal(s.leaseMs, 120_000)
  t.equal(s.workerConcurrency, 16)
  t.equal(s.appsDir, 'config/apps')
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
    [{ ESB_TIMEOUT: 'abc' }, 'ESB_TIMEOUT: "abc" is not a duration (use ms, s, m, h)'],
    [{ ESB_TIMEOUT: '30' }, 'ESB_TIMEOUT: "30" is not a duration (use ms, s, m, h)'],
    [{ ESB_TIMEOUT: '0s' }, 'ESB_TIMEOUT: "0s" must be longer than zero'],
    [{ LEASE_DURATION: '2 days' }, 'LEASE_DURATION: "2 days" is not a duration (use ms, s, m, h)'],
    [{ LEASE_DURATION: '20s' }, 'LEASE_DURATION: "20s" must be longer than ESB_TIMEOUT (30s)'],
    [{ LEASE_DURATION: '5s', ESB_TIMEOUT: '5s' }, 'LEASE_DURATION: "5s" must be longer than ESB_TIMEOUT (5s)'],
    [{ SWEEP_INTERVAL: 'hourly' }, 'SWEEP_INTERVAL: "hourly" is not a duration (use ms, s, m, h)'],
    [{ RETRY_SCHEDULE: '30s,soon' }, 'RETRY_SCHEDULE: item 2: "soon" is not a duration (use ms, s, m, h)'],
    [{ DATABASE_URL: 'data/x.sqlite' }, 'DATABASE_URL: "data/x.sqlite" is not sqlite:<path>, sqlite::memory: or postgres://…'],
    [{ DATABASE_URL: 'sqlite:' }, 'DATABASE_URL: "sqlite:…" is not sqlite:<path>, sqlite::memory: or postgres://…'],
    [{ KNACK_RATE_LIMIT: '0' }, 'KNACK_RATE_LIMIT: "0" is not a number above 0 (requests per second)'],
    [{ KNACK_RATE_LIMIT: 'fast' }, 'KNACK_RATE_LIMIT: "fast" is not a number above 0 (requests per second)'],
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
    'ESB_ENDPOINT: is required but not set; ESB_TIMEOUT: "abc" is not a duration (use ms, s, m, h); ' +
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
  t.equal(configMessage(() => readEnv({}, { cwd })), 'SWEEP_INTERVAL: "often" is not a duration (use ms, s, m, h)')
})
