// The environment, read once: an optional `.env` file in the working directory under the real
// environment (a variable already set is never overwritten), checked by env-schema for types and
// defaults, then by the rules JSON schema cannot say well (durations, URLs). Every problem
// becomes one line naming the variable; secret values never appear in a message.
import envSchema from 'env-schema'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseEnv } from 'node:util'
import { ConfigInvalid } from '../errors.js'
import { parseDuration, parseDurationList, parseSpan } from './duration.js'
import { parseArrivalSpread, parseDigestAt, parseEmailList, parseOperatorTokens, parseTrustProxy, type DigestAt, type Operator, type TrustProxy } from './env-values.js'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
export const ESB_AUTH_MODES = ['mtls', 'basic', 'mtls+basic'] as const
export type EsbAuthMode = (typeof ESB_AUTH_MODES)[number]

const ENV_SCHEMA = {
  type: 'object',
  properties: {
    KNACK_APP_ID: { type: 'string' },
    KNACK_API_KEY: { type: 'string' },
    KNACK_API_URL: { type: 'string', default: 'https://api.knack.com/v1' },
    ESB_ENDPOINT: { type: 'string' },
    ESB_CERT: { type: 'string', default: 'certs/esb.cert' },
    ESB_KEY: { type: 'string', default: 'certs/esb.pem' },
    ESB_CA: { type: 'string' },
    ESB_AUTH: { type: 'string', enum: ESB_AUTH_MODES, default: 'mtls' },
    ESB_USERNAME: { type: 'string' },
    ESB_PASSWORD: { type: 'string' },
    ESB_TIMEOUT: { type: 'string', default: '30s' },
    ESB_PAUSE_AFTER: { type: 'integer', minimum: 1, default: 5 },
    ESB_PROBE_EVERY: { type: 'string', default: '30s' },
    WEBHOOK_SECRET: { type: 'string' },
    WEBHOOK_VERIFY: { type: 'boolean', default: true },
    ADMIN_TOKEN: { type: 'string' },
    OPERATOR_TOKENS: { type: 'string' },
    PUBLIC_URL: { type: 'string' },
    TRUST_PROXY: { type: 'string' },
    DATABASE_URL: {
      type: 'string',
      default: 'sqlite:data/knack311.sqlite',
      pattern: '^(sqlite:.+|postgres(ql)?://.+)$'
    },
    RETRY_SCHEDULE: { type: 'string', default: '30s,2m,10m,30m,1h,2h,4h,8h' },
    KNACK_RATE_LIMIT: { type: 'number', exclusiveMinimum: 0, default: 10 },
    KNACK_ARRIVAL_SPREAD: { type: 'string', default: '20ms' },
    SWEEP_INTERVAL: { type: 'string' },
    RETENTION: { type: 'string', default: '90d' },
    ALERT_SLACK_URL: { type: 'string' },
    ALERT_TEAMS_URL: { type: 'string' },
    ALERT_WEBHOOK_URL: { type: 'string' },
    SMTP_URL: { type: 'string' },
    ALERT_EMAIL_FROM: { type: 'string' },
    ALERT_EMAIL_TO: { type: 'string' },
    ALERT_STUCK_AFTER: { type: 'string', default: '1h' },
    ALERT_GROUP_WINDOW: { type: 'string', default: '2m' },
    DIGEST_AT: { type: 'string' },
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 3000 },
    HOST: { type: 'string', default: '0.0.0.0' },
    LOG_LEVEL: { type: 'string', enum: LOG_LEVELS, default: 'info' },
    LEASE_DURATION: { type: 'string', default: '2m' },
    WORKER_CONCURRENCY: { type: 'integer', minimum: 1, default: 16 },
    APPS_DIR: { type: 'string', default: 'config/apps' }
  }
} as const

export type EnvName = keyof typeof ENV_SCHEMA.properties
const ENV_NAMES = Object.keys(ENV_SCHEMA.properties) as EnvName[]

/** Never echoed in a message. */
const SECRET_NAMES: ReadonlySet<string> = new Set([
  'KNACK_APP_ID',
  'KNACK_API_KEY',
  'WEBHOOK_SECRET',
  'ADMIN_TOKEN',
  'OPERATOR_TOKENS',
  'ESB_USERNAME',
  'ESB_PASSWORD'
])
/** URLs that may carry a password or are themselves a secret (a Slack or Teams webhook URL is
 *  its own credential): shown cut at their scheme. */
const URL_SECRET_NAMES: ReadonlySet<string> = new Set([
  'DATABASE_URL',
  'SMTP_URL',
  'ALERT_SLACK_URL',
  'ALERT_TEAMS_URL',
  'ALERT_WEBHOOK_URL'
])

/** What a value failing the JSON schema should have been (env-schema's own texts are Ajv's). */
const SCHEMA_RULES: Partial<Record<EnvName, string>> = {
  DATABASE_URL: 'is not sqlite:<path>, sqlite::memory: or postgres://…',
  KNACK_RATE_LIMIT: 'is not a number above 0 (requests per second)',
  PORT: 'is not a whole number from 0 to 65535',
  LOG_LEVEL: `is not one of ${LOG_LEVELS.join(', ')}`,
  WORKER_CONCURRENCY: 'is not a whole number of 1 or more',
  ESB_AUTH: `is not one of ${ESB_AUTH_MODES.join(', ')}`,
  ESB_PAUSE_AFTER: 'is not a whole number of 1 or more (consecutive endpoint failures)',
  WEBHOOK_VERIFY: 'is not true or false'
}

interface RawEnv {
  KNACK_APP_ID?: string
  KNACK_API_KEY?: string
  KNACK_API_URL: string
  ESB_ENDPOINT?: string
  ESB_CERT: string
  ESB_KEY: string
  ESB_CA?: string
  ESB_AUTH: EsbAuthMode
  ESB_USERNAME?: string
  ESB_PASSWORD?: string
  ESB_TIMEOUT: string
  ESB_PAUSE_AFTER: number
  ESB_PROBE_EVERY: string
  WEBHOOK_SECRET?: string
  WEBHOOK_VERIFY: boolean
  ADMIN_TOKEN?: string
  OPERATOR_TOKENS?: string
  PUBLIC_URL?: string
  TRUST_PROXY?: string
  DATABASE_URL: string
  RETRY_SCHEDULE: string
  KNACK_RATE_LIMIT: number
  KNACK_ARRIVAL_SPREAD: string
  SWEEP_INTERVAL?: string
  RETENTION: string
  ALERT_SLACK_URL?: string
  ALERT_TEAMS_URL?: string
  ALERT_WEBHOOK_URL?: string
  SMTP_URL?: string
  ALERT_EMAIL_FROM?: string
  ALERT_EMAIL_TO?: string
  ALERT_STUCK_AFTER: string
  ALERT_GROUP_WINDOW: string
  DIGEST_AT?: string
  PORT: number
  HOST: string
  LOG_LEVEL: LogLevel
  LEASE_DURATION: string
  WORKER_CONCURRENCY: number
  APPS_DIR: string
}

/** The environment's settings, typed; paths are as written (relative to the working directory). */
export interface EnvSettings {
  knackAppId?: string | undefined
  knackApiKey?: string | undefined
  knackApiUrl: string
  esbEndpoint?: string | undefined
  esbCert: string
  esbKey: string
  esbCa?: string | undefined
  esbAuth: EsbAuthMode
  esbUsername?: string | undefined
  esbPassword?: string | undefined
  esbTimeoutMs: number
  esbPauseAfter: number
  esbProbeEveryMs: number
  webhookSecret?: string | undefined
  webhookVerify: boolean
  adminToken?: string | undefined
  /** OPERATOR_TOKENS, parsed: named people besides "admin". */
  operators: Operator[]
  publicUrl?: string | undefined
  /** Which proxies' X-Forwarded-* headers are believed (Fastify's trustProxy); false: none. */
  trustProxy: TrustProxy
  databaseUrl: string
  retryScheduleMs: number[]
  knackRateLimit: number
  /** KNACK_ARRIVAL_SPREAD: how much later one request can reach Knack than another written at the same moment. */
  knackArrivalSpreadMs: number
  sweepIntervalMs?: number | undefined
  /** null: RETENTION=off, keep everything. */
  retentionMs: number | null
  alertSlackUrl?: string | undefined
  alertTeamsUrl?: string | undefined
  alertWebhookUrl?: string | undefined
  smtpUrl?: string | undefined
  alertEmailFrom?: string | undefined
  alertEmailTo: string[]
  alertStuckAfterMs: number
  /** Dead deliveries are gathered this long into one alert. */
  alertGroupWindowMs: number
  digestAt?: DigestAt | undefined
  port: number
  host: string
  logLevel: LogLevel
  leaseMs: number
  workerConcurrency: number
  appsDir: string
  /** Every variable set (the .env file's under the real ones), empty ones left out: app files name credential variables from here. */
  vars: Record<string, string>
}

export interface ReadEnvOptions {
  /** Where `.env` is looked for; default process.cwd(). */
  cwd?: string | undefined
  /** Variables this use of the service cannot do without. */
  required?: readonly EnvName[] | undefined
  /** The service will talk to the ESB: ESB_AUTH's credentials are required too. */
  esb?: boolean | undefined
}

/** Read and check the environment. Throws ConfigInvalid with one line naming each bad variable. */
export function readEnv(env: NodeJS.ProcessEnv, opts: ReadEnvOptions = {}): EnvSettings {
  const vars = mergeDotenv(env, opts.cwd ?? process.cwd())
  const problems = new Map<EnvName, string>()
  for (const name of opts.required ?? []) {
    if (vars[name] === undefined) problems.set(name, 'is required but not set')
  }

  let raw: RawEnv | undefined
  try {
    // env: false: the caller's env (already merged with .env) is the only source.
    raw = envSchema<RawEnv>({ schema: ENV_SCHEMA, data: { ...vars }, env: false, dotenv: false })
  } catch (err) {
    for (const name of schemaFailures(err)) {
      if (!problems.has(name)) problems.set(name, `${show(name, vars[name])} ${SCHEMA_RULES[name] ?? 'is not valid'}`)
    }
  }

  // The rules below read the text itself, so they run (and report) even when the schema failed.
  const text = (name: EnvName): string | undefined => vars[name] ?? defaultOf(name)
  const check = <T>(name: EnvName, read: (value: string) => T): T | undefined => {
    const value = text(name)
    if (value === undefined) return undefined
    try {
      return read(value)
    } catch (err) {
      if (!problems.has(name)) problems.set(name, (err as Error).message)
      return undefined
    }
  }
  const positive = (value: string): number => {
    const ms = parseDuration(value)
    if (ms <= 0) throw new Error(`${JSON.stringify(value)} must be longer than zero`)
    return ms
  }
  const positiveSpan = (value: string): number => {
    const ms = parseSpan(value)
    if (ms <= 0) throw new Error(`${JSON.stringify(value)} must be longer than zero`)
    return ms
  }
  const anyUrl = (v: string) => httpUrl(v, ['http:', 'https:'])
  const knackApiUrl = check('KNACK_API_URL', anyUrl)
  // Kept exactly as given: the gateway's listener is /ws/rest/v1/knack/submitKnack/, slash included.
  const esbEndpoint = check('ESB_ENDPOINT', (v) => httpUrl(v, ['https:'], { keepTrailingSlash: true }))
  const esbTimeoutMs = check('ESB_TIMEOUT', positive)
  const esbProbeEveryMs = check('ESB_PROBE_EVERY', positive)
  const retryScheduleMs = check('RETRY_SCHEDULE', parseDurationList)
  const sweepIntervalMs = check('SWEEP_INTERVAL', positive)
  const knackArrivalSpreadMs = check('KNACK_ARRIVAL_SPREAD', parseArrivalSpread)
  const leaseMs = check('LEASE_DURATION', positive)
  const publicUrl = check('PUBLIC_URL', anyUrl)
  const trustProxy = check('TRUST_PROXY', parseTrustProxy)
  const retention = check('RETENTION', (v) => (v.toLowerCase() === 'off' ? null : positiveSpan(v)))
  const alertSlackUrl = check('ALERT_SLACK_URL', (v) => secretUrl(v, ['https:', 'http:']))
  const alertTeamsUrl = check('ALERT_TEAMS_URL', (v) => secretUrl(v, ['https:', 'http:']))
  const alertWebhookUrl = check('ALERT_WEBHOOK_URL', (v) => secretUrl(v, ['https:', 'http:']))
  const smtpUrl = check('SMTP_URL', (v) => secretUrl(v, ['smtp:', 'smtps:']))
  const alertEmailFrom = check('ALERT_EMAIL_FROM', (v) => {
    const [one, ...more] = parseEmailList(v)
    if (one === undefined || more.length > 0) throw new Error(`${JSON.stringify(v)} is not one e-mail address`)
    return one
  })
  const alertEmailTo = check('ALERT_EMAIL_TO', parseEmailList)
  const alertStuckAfterMs = check('ALERT_STUCK_AFTER', positiveSpan)
  const alertGroupWindowMs = check('ALERT_GROUP_WINDOW', positive)
  const digestAt = check('DIGEST_AT', parseDigestAt)
  const operators = check('OPERATOR_TOKENS', (v) => parseOperatorTokens(v, vars.ADMIN_TOKEN))

  // Rules between variables, each reported on the variable that is missing or wrong.
  const needs = (name: EnvName, why: string) => {
    if (vars[name] === undefined && !problems.has(name)) problems.set(name, `is required ${why}`)
  }
  const esbAuth = ESB_AUTH_MODES.find((m) => m === text('ESB_AUTH'))
  if (opts.esb && esbAuth !== undefined && esbAuth.includes('basic')) {
    needs('ESB_USERNAME', `when ESB_AUTH is ${esbAuth}`)
    needs('ESB_PASSWORD', `when ESB_AUTH is ${esbAuth}`)
  }
  if (smtpUrl !== undefined) {
    needs('ALERT_EMAIL_FROM', 'when SMTP_URL is set')
    needs('ALERT_EMAIL_TO', 'when SMTP_URL is set')
  } else if (vars.SMTP_URL === undefined) {
    for (const name of ['ALERT_EMAIL_FROM', 'ALERT_EMAIL_TO'] as const) {
      if (vars[name] !== undefined && !problems.has(name)) problems.set(name, 'is set but SMTP_URL is not (e-mail alerts need a server)')
    }
  }
  // A lease shorter than one ESB request lets another worker claim a send still in flight.
  if (leaseMs !== undefined && esbTimeoutMs !== undefined && leaseMs <= esbTimeoutMs && !problems.has('LEASE_DURATION')) {
    problems.set('LEASE_DURATION', `${JSON.stringify(text('LEASE_DURATION'))} must be longer than ESB_TIMEOUT (${text('ESB_TIMEOUT')})`)
  }
  if (problems.size > 0 || raw === undefined) throw configInvalid(problems)

  return {
    knackAppId: raw.KNACK_APP_ID,
    knackApiKey: raw.KNACK_API_KEY,
    knackApiUrl: knackApiUrl ?? raw.KNACK_API_URL,
    esbEndpoint,
    esbCert: raw.ESB_CERT,
    esbKey: raw.ESB_KEY,
    esbCa: raw.ESB_CA,
    esbAuth: raw.ESB_AUTH,
    esbUsername: raw.ESB_USERNAME,
    esbPassword: raw.ESB_PASSWORD,
    esbTimeoutMs: esbTimeoutMs ?? 0,
    esbPauseAfter: raw.ESB_PAUSE_AFTER,
    esbProbeEveryMs: esbProbeEveryMs ?? 0,
    webhookSecret: raw.WEBHOOK_SECRET,
    webhookVerify: raw.WEBHOOK_VERIFY,
    adminToken: raw.ADMIN_TOKEN,
    operators: operators ?? [],
    publicUrl,
    trustProxy: trustProxy ?? false,
    databaseUrl: raw.DATABASE_URL,
    retryScheduleMs: retryScheduleMs ?? [],
    knackRateLimit: raw.KNACK_RATE_LIMIT,
    knackArrivalSpreadMs: knackArrivalSpreadMs ?? 0,
    sweepIntervalMs,
    retentionMs: retention ?? null,
    alertSlackUrl,
    alertTeamsUrl,
    alertWebhookUrl,
    smtpUrl,
    alertEmailFrom,
    alertEmailTo: alertEmailTo ?? [],
    alertStuckAfterMs: alertStuckAfterMs ?? 0,
    alertGroupWindowMs: alertGroupWindowMs ?? 0,
    digestAt,
    port: raw.PORT,
    host: raw.HOST,
    logLevel: raw.LOG_LEVEL,
    leaseMs: leaseMs ?? 0,
    workerConcurrency: raw.WORKER_CONCURRENCY,
    appsDir: raw.APPS_DIR,
    vars
  }
}

function defaultOf(name: EnvName): string | undefined {
  const value = (ENV_SCHEMA.properties[name] as { default?: unknown }).default
  return typeof value === 'string' ? value : undefined
}

/** `.env` in cwd under env: a variable already set wins. Empty values count as not set. */
function mergeDotenv(env: NodeJS.ProcessEnv, cwd: string): Record<string, string> {
  const path = join(cwd, '.env')
  let fromFile: NodeJS.Dict<string> = {}
  try {
    // parseEnv is the parser behind process.loadEnvFile, without writing into process.env.
    fromFile = parseEnv(readFileSync(path, 'utf8'))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'ENOENT') throw new ConfigInvalid(`.env: cannot read ${path} (${code ?? (err as Error).message})`)
  }
  const vars: Record<string, string> = {}
  for (const source of [fromFile, env]) {
    for (const [name, value] of Object.entries(source)) {
      if (value !== undefined && value.trim() !== '') vars[name] = value.trim()
    }
  }
  return vars
}

/** A URL that is a credential: checked like any other, but never quoted in the message. */
function secretUrl(text: string, protocols: string[]): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new Error('is not a URL (value not shown: it may hold a secret)')
  }
  if (!protocols.includes(url.protocol)) {
    throw new Error(`must be a ${protocols.map((p) => p.replace(':', '')).join(' or ')} URL, not ${url.protocol.replace(':', '')}`)
  }
  return text
}

function httpUrl(text: string, protocols: string[], opts: { keepTrailingSlash?: boolean } = {}): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new Error(`${JSON.stringify(text)} is not a URL`)
  }
  if (!protocols.includes(url.protocol)) {
    throw new Error(`${JSON.stringify(text)} must be an ${protocols.map((p) => p.replace(':', '')).join(' or ')} URL`)
  }
  return opts.keepTrailingSlash ? text : text.replace(/\/+$/, '')
}

/** Which variables Ajv rejected, in the order of the schema. */
function schemaFailures(err: unknown): EnvName[] {
  const errors = (err as { errors?: Array<{ instancePath?: string }> }).errors
  if (!Array.isArray(errors)) throw err
  const names = new Set(errors.map((e) => (e.instancePath ?? '').replace(/^\//, '')))
  return ENV_NAMES.filter((name) => names.has(name))
}

/** A value fit for a message: secrets hidden, a database URL cut at its scheme (it may hold a password). */
function show(name: string, value: string | undefined): string {
  if (value === undefined) return 'value'
  if (SECRET_NAMES.has(name)) return 'value'
  if (URL_SECRET_NAMES.has(name)) {
    const colon = value.indexOf(':')
    return JSON.stringify(colon === -1 ? value : `${value.slice(0, colon + 1)}…`)
  }
  return JSON.stringify(value)
}

function configInvalid(problems: Map<EnvName, string>): Error {
  const ordered = ENV_NAMES.filter((name) => problems.has(name)).map((name) => `${name}: ${problems.get(name) ?? ''}`)
  return new ConfigInvalid(ordered.join('; '))
}
