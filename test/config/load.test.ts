import t from 'tap'
import { cpSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig, maskConfig } from '../../src/config/load.js'
import { REAL_APPS_DIR, configMessage, tempDir, validAppFile, writeFiles } from '../fixtures/config/helpers.js'

const CERT_PEM = '-----BEGIN CERTIFICATE-----\nnot-a-real-certificate\n-----END CERTIFICATE-----\n'
const KEY_PEM = '-----BEGIN PRIVATE KEY-----\nnot-a-real-private-key\n-----END PRIVATE KEY-----\n'
const CA_PEM = '-----BEGIN CERTIFICATE-----\nnot-a-real-ca\n-----END CERTIFICATE-----\n'

const SECRETS = {
  KNACK_APP_ID: 'knack-app-id-0123',
  KNACK_API_KEY: 'knack-api-key-4567',
  WEBHOOK_SECRET: 'webhook-secret-89ab',
  ADMIN_TOKEN: 'admin-token-cdef'
}

/** A working directory as the service expects it: the real app files and the default cert paths. */
function serviceDir(t: Parameters<typeof tempDir>[0]): string {
  const cwd = tempDir(t)
  cpSync(REAL_APPS_DIR, join(cwd, 'config/apps'), { recursive: true })
  writeFiles(join(cwd, 'certs'), { 'esb.cert': CERT_PEM, 'esb.pem': KEY_PEM, 'ca.pem': CA_PEM })
  return cwd
}

const serviceEnv = { ...SECRETS, ESB_ENDPOINT: 'https://esb.example/soap' }

t.test('service: everything from the defaults of a prepared working directory', async (t) => {
  const cwd = serviceDir(t)
  const config = loadConfig(serviceEnv, { cwd })
  t.equal(config.esb.endpoint, 'https://esb.example/soap')
  t.equal(config.esb.cert, CERT_PEM)
  t.equal(config.esb.key, KEY_PEM)
  t.equal(config.esb.ca, undefined)
  t.equal(config.esb.certPath, join(cwd, 'certs/esb.cert'))
  t.equal(config.esb.keyPath, join(cwd, 'certs/esb.pem'))
  t.equal(config.esb.timeoutMs, 30_000)
  t.equal(config.webhookSecret, SECRETS.WEBHOOK_SECRET)
  t.equal(config.adminToken, SECRETS.ADMIN_TOKEN)
  t.equal(config.knackApiUrl, 'https://api.knack.com/v1')
  t.equal(config.databaseUrl, 'sqlite:data/knack311.sqlite')
  t.equal(config.retryScheduleMs.length, 8)
  t.equal(config.knackRateLimit, 10)
  t.equal(config.knackArrivalSpreadMs, 20)
  t.equal(config.sweepIntervalMs, undefined)
  t.equal(config.leaseMs, 120_000)
  t.equal(config.workerConcurrency, 16)
  t.match(config, { port: 3000, host: '0.0.0.0', logLevel: 'info' })
  t.equal(config.appsDir, join(cwd, 'config/apps'))
  t.same([...config.apps.keys()], ['data-tracker', 'signs-markings'])
  t.same(config.apps.get('signs-markings')?.credentials, { appId: SECRETS.KNACK_APP_ID, apiKey: SECRETS.KNACK_API_KEY })
})

t.test('service: ESB_CA is read when set', async (t) => {
  const cwd = serviceDir(t)
  const config = loadConfig({ ...serviceEnv, ESB_CA: 'certs/ca.pem' }, { cwd })
  t.equal(config.esb.ca, CA_PEM)
  t.equal(config.esb.caPath, join(cwd, 'certs/ca.pem'))
})

t.test('service: each missing piece stops with one line naming it', async (t) => {
  const cwd = serviceDir(t)
  t.equal(
    configMessage(() => loadConfig({ KNACK_APP_ID: 'a', KNACK_API_KEY: 'k' }, { cwd })),
    'ESB_ENDPOINT: is required but not set; WEBHOOK_SECRET: is required but not set; ADMIN_TOKEN: is required but not set'
  )
  const { KNACK_API_KEY: _key, ...withoutKey } = serviceEnv
  t.equal(
    configMessage(() => loadConfig(withoutKey, { cwd })),
    'KNACK_API_KEY: required but not set (the Knack credentials of config/apps/data-tracker.json)'
  )
  t.equal(
    configMessage(() => loadConfig({ ...serviceEnv, ESB_CERT: 'certs/missing.cert' }, { cwd })),
    'ESB_CERT: cannot read certs/missing.cert (ENOENT)'
  )
  t.equal(configMessage(() => loadConfig({ ...serviceEnv, ESB_KEY: 'certs' }, { cwd })), 'ESB_KEY: cannot read certs (EISDIR)')
  t.equal(configMessage(() => loadConfig({ ...serviceEnv, ESB_CA: 'certs/none.pem' }, { cwd })), 'ESB_CA: cannot read certs/none.pem (ENOENT)')
  writeFiles(join(cwd, 'certs'), { 'empty.pem': '\n' })
  t.equal(configMessage(() => loadConfig({ ...serviceEnv, ESB_KEY: 'certs/empty.pem' }, { cwd })), 'ESB_KEY: certs/empty.pem is empty')
  t.equal(
    configMessage(() => loadConfig({ ...serviceEnv, ESB_TIMEOUT: 'abc' }, { cwd })),
    'ESB_TIMEOUT: "abc" is not a duration (use ms, s, m, h, d)'
  )
  t.equal(
    configMessage(() => loadConfig({ ...serviceEnv, DATABASE_URL: 'mongodb://x' }, { cwd })),
    'DATABASE_URL: "mongodb:…" is not sqlite:<path>, sqlite::memory: or postgres://…'
  )
})

t.test('the default cert paths, missing, are named too', async (t) => {
  const cwd = tempDir(t)
  t.equal(
    configMessage(() => loadConfig({ ...serviceEnv, APPS_DIR: REAL_APPS_DIR }, { cwd })),
    'ESB_CERT: cannot read certs/esb.cert (ENOENT); ESB_KEY: cannot read certs/esb.pem (ENOENT)'
  )
})

t.test('a bad app file stops loading, naming the file and key', async (t) => {
  const cwd = serviceDir(t)
  writeFiles(join(cwd, 'config/apps'), { 'extra.json': { ...validAppFile(), colour: 'blue' } })
  t.equal(configMessage(() => loadConfig(serviceEnv, { cwd })), 'config/apps/extra.json: colour: unknown key')
  writeFiles(join(cwd, 'config/apps'), { 'extra.json': '{ not json' })
  t.match(configMessage(() => loadConfig(serviceEnv, { cwd })), /^config\/apps\/extra\.json: not valid JSON \(/)
})

t.test('knack: only Knack credentials and app files are needed', async (t) => {
  const cwd = tempDir(t)
  const config = loadConfig({ KNACK_APP_ID: 'a', KNACK_API_KEY: 'k', APPS_DIR: REAL_APPS_DIR }, { cwd, need: 'knack' })
  t.equal(config.apps.size, 2)
  t.match(config.esb, { endpoint: '', cert: '', key: '', ca: undefined })
  t.equal(config.webhookSecret, '')
  t.equal(config.adminToken, '')
  t.equal(
    configMessage(() => loadConfig({ APPS_DIR: REAL_APPS_DIR }, { cwd, need: 'knack' })),
    'KNACK_APP_ID, KNACK_API_KEY: required but not set (the Knack credentials of ' + join(REAL_APPS_DIR, 'data-tracker.json') + ')'
  )
})

t.test('.env in the working directory fills in, the real environment wins', async (t) => {
  const cwd = serviceDir(t)
  writeFiles(cwd, {
    '.env': [
      `KNACK_APP_ID=${SECRETS.KNACK_APP_ID}`,
      `KNACK_API_KEY=${SECRETS.KNACK_API_KEY}`,
      'ESB_ENDPOINT=https://from-dotenv.example/soap',
      `WEBHOOK_SECRET=${SECRETS.WEBHOOK_SECRET}`,
      `ADMIN_TOKEN=${SECRETS.ADMIN_TOKEN}`,
      'PORT=4000',
      'LOG_LEVEL=debug'
    ].join('\n')
  })
  const config = loadConfig({ PORT: '5000', ESB_ENDPOINT: 'https://from-env.example/soap' }, { cwd })
  t.equal(config.port, 5000)
  t.equal(config.esb.endpoint, 'https://from-env.example/soap')
  t.equal(config.logLevel, 'debug')
  t.equal(config.adminToken, SECRETS.ADMIN_TOKEN)
})

t.test('no secret value appears in any failure message', async (t) => {
  const cwd = serviceDir(t)
  const failures = [
    { ...serviceEnv, ESB_CERT: 'nope' },
    { ...serviceEnv, PORT: 'x', ESB_TIMEOUT: 'y', DATABASE_URL: 'mysql://u:hunter2@h/db' },
    { KNACK_APP_ID: SECRETS.KNACK_APP_ID },
    { ...serviceEnv, APPS_DIR: 'missing' }
  ]
  for (const env of failures) {
    const message = configMessage(() => loadConfig(env, { cwd }))
    for (const secret of [...Object.values(SECRETS), 'hunter2', 'not-a-real']) t.notOk(message.includes(secret), `${message} hides ${secret}`)
  }
})

t.test('maskConfig hides keys, tokens, credentials, PEM contents and a database password', async (t) => {
  const cwd = serviceDir(t)
  const config = loadConfig({ ...serviceEnv, ESB_CA: 'certs/ca.pem', DATABASE_URL: 'postgres://knack:hunter2@db:5432/knack311' }, { cwd })
  const masked = maskConfig(config)
  const printed = JSON.stringify(masked)
  for (const secret of [...Object.values(SECRETS), 'hunter2', 'not-a-real']) t.notOk(printed.includes(secret), `hides ${secret}`)
  t.equal(masked.esb.cert, '****')
  t.equal(masked.esb.key, '****')
  t.equal(masked.esb.ca, '****')
  t.equal(masked.webhookSecret, '****')
  t.equal(masked.adminToken, '****')
  t.equal(masked.databaseUrl, 'postgres://knack:****@db:5432/knack311')
  t.same(masked.apps['data-tracker']?.credentials, { appId: '****', apiKey: '****' })
  t.equal(masked.apps['data-tracker']?.view, 'view_1653', 'what is not secret stays readable')
  t.equal(masked.esb.certPath, join(cwd, 'certs/esb.cert'))
  t.equal(masked.esb.endpoint, 'https://esb.example/soap')
  t.equal(config.esb.key, KEY_PEM, 'the config itself is untouched')
  t.equal(config.apps.get('data-tracker')?.credentials.apiKey, SECRETS.KNACK_API_KEY)

  const knackOnly = maskConfig(loadConfig({ ...SECRETS, APPS_DIR: REAL_APPS_DIR }, { cwd: tempDir(t), need: 'knack' }))
  t.equal(knackOnly.esb.key, '', 'an empty value stays visibly empty')
  t.equal(knackOnly.databaseUrl, 'sqlite:data/knack311.sqlite')
})

t.test('service: operators are "admin" first, then OPERATOR_TOKENS; masked when printed', async (t) => {
  const cwd = serviceDir(t)
  const config = loadConfig({ ...serviceEnv, OPERATOR_TOKENS: 'ana:ana-token-123456' }, { cwd })
  t.same(config.operators, [
    { name: 'admin', token: SECRETS.ADMIN_TOKEN },
    { name: 'ana', token: 'ana-token-123456' }
  ])
  const printed = JSON.stringify(maskConfig(config))
  t.notMatch(printed, /ana-token-123456/)
  t.notMatch(printed, new RegExp(SECRETS.ADMIN_TOKEN))
  t.match(printed, /"name":"ana"/, 'names stay visible')
})

t.test('service: ESB_AUTH=basic reads no certificate files; credentials and alert URLs are masked', async (t) => {
  const cwd = tempDir(t)
  cpSync(REAL_APPS_DIR, join(cwd, 'config/apps'), { recursive: true })
  const config = loadConfig(
    {
      ...serviceEnv,
      ESB_AUTH: 'basic',
      ESB_USERNAME: 'knack-user',
      ESB_PASSWORD: 'esb-password-42',
      ALERT_SLACK_URL: 'https://hooks.slack.com/services/T/B/slack-secret',
      SMTP_URL: 'smtp://u:smtp-secret@127.0.0.1:2525',
      ALERT_EMAIL_FROM: 'k@example.org',
      ALERT_EMAIL_TO: 'ops@example.org'
    },
    { cwd }
  )
  t.equal(config.esb.auth, 'basic')
  t.equal(config.esb.cert, '', 'no certificate read (there is none)')
  t.equal(config.esb.username, 'knack-user')
  t.same(config.alerts.email, { smtpUrl: 'smtp://u:smtp-secret@127.0.0.1:2525', from: 'k@example.org', to: ['ops@example.org'] })
  const printed = JSON.stringify(maskConfig(config))
  for (const secret of ['esb-password-42', 'knack-user', 'slack-secret', 'smtp-secret']) t.notMatch(printed, new RegExp(secret), `${secret} masked`)
  t.equal(
    configMessage(() => loadConfig({ ...serviceEnv, ESB_AUTH: 'mtls+basic', ESB_USERNAME: 'u', ESB_PASSWORD: 'p' }, { cwd })),
    'ESB_CERT: cannot read certs/esb.cert (ENOENT); ESB_KEY: cannot read certs/esb.pem (ENOENT)',
    'mtls+basic still needs the certificate'
  )
})
