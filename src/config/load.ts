// The one place configuration is assembled: environment + app files + the ESB certificate files.
// Called once at start-up (service or CLI); everything after receives the Config it returns.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ConfigInvalid } from '../errors.js'
import { loadAppFiles } from './app-files.js'
import { readEnv } from './env.js'
import type { EnvName, EnvSettings } from './env.js'
import type { AppConfig, Config, EsbConfig } from './types.js'

/** `service`: everything (the server). `knack`: Knack credentials and app files only (preview,
 *  check). `ledger`: the database and the app files, no credentials (prune, export). */
export type ConfigNeed = 'service' | 'knack' | 'ledger'

export interface LoadConfigOptions {
  /** Where `.env` is read from and relative paths are resolved against; default process.cwd(). */
  cwd?: string | undefined
  need?: ConfigNeed | undefined
}

const SERVICE_REQUIRES: readonly EnvName[] = ['ESB_ENDPOINT', 'WEBHOOK_SECRET', 'ADMIN_TOKEN']

/** Build the Config. Throws ConfigInvalid whose one-line message names the variable or file and key. */
export function loadConfig(env: NodeJS.ProcessEnv, opts: LoadConfigOptions = {}): Config {
  const cwd = opts.cwd ?? process.cwd()
  const need = opts.need ?? 'service'
  const settings = readEnv(env, { cwd, required: need === 'service' ? SERVICE_REQUIRES : [], esb: need === 'service' })
  const apps = loadAppFiles(settings.appsDir, settings.vars, { cwd, requireCredentials: need !== 'ledger' })
  return {
    knackApiUrl: settings.knackApiUrl,
    esb: need === 'service' ? readEsbFiles(settings, cwd) : esbWithoutFiles(settings, cwd),
    webhookSecret: settings.webhookSecret ?? '',
    webhookVerify: settings.webhookVerify,
    adminToken: settings.adminToken ?? '',
    operators: [...(settings.adminToken ? [{ name: 'admin', token: settings.adminToken }] : []), ...settings.operators],
    publicUrl: settings.publicUrl?.replace(/\/+$/, ''),
    trustProxy: settings.trustProxy,
    databaseUrl: settings.databaseUrl,
    retryScheduleMs: settings.retryScheduleMs,
    knackRateLimit: settings.knackRateLimit,
    knackArrivalSpreadMs: settings.knackArrivalSpreadMs,
    sweepIntervalMs: settings.sweepIntervalMs,
    retentionMs: settings.retentionMs,
    alerts: {
      slackUrl: settings.alertSlackUrl,
      teamsUrl: settings.alertTeamsUrl,
      webhookUrl: settings.alertWebhookUrl,
      email:
        settings.smtpUrl && settings.alertEmailFrom
          ? { smtpUrl: settings.smtpUrl, from: settings.alertEmailFrom, to: settings.alertEmailTo }
          : undefined,
      stuckAfterMs: settings.alertStuckAfterMs,
      groupWindowMs: settings.alertGroupWindowMs,
      digestAt: settings.digestAt
    },
    leaseMs: settings.leaseMs,
    workerConcurrency: settings.workerConcurrency,
    port: settings.port,
    host: settings.host,
    logLevel: settings.logLevel,
    apps,
    appsDir: resolve(cwd, settings.appsDir)
  }
}

/** Read the PEM files now, so a missing certificate stops start-up rather than the first delivery. */
function readEsbFiles(settings: EnvSettings, cwd: string): EsbConfig {
  const problems: string[] = []
  const read = (name: EnvName, path: string): string => {
    try {
      const text = readFileSync(resolve(cwd, path), 'utf8')
      if (text.trim() === '') problems.push(`${name}: ${path} is empty`)
      return text
    } catch (err) {
      problems.push(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
      return ''
    }
  }
  // Basic alone needs no client certificate: the files are not read (nor required).
  const mtls = settings.esbAuth !== 'basic'
  const cert = mtls ? read('ESB_CERT', settings.esbCert) : ''
  const key = mtls ? read('ESB_KEY', settings.esbKey) : ''
  const ca = settings.esbCa === undefined ? undefined : read('ESB_CA', settings.esbCa)
  if (problems.length > 0) throw new ConfigInvalid(problems.join('; '))
  return { ...esbWithoutFiles(settings, cwd), cert, key, ca }
}

function esbWithoutFiles(settings: EnvSettings, cwd: string): EsbConfig {
  return {
    endpoint: settings.esbEndpoint ?? '',
    auth: settings.esbAuth,
    username: settings.esbUsername,
    password: settings.esbPassword,
    pauseAfter: settings.esbPauseAfter,
    probeEveryMs: settings.esbProbeEveryMs,
    cert: '',
    key: '',
    ca: undefined,
    certPath: resolve(cwd, settings.esbCert),
    keyPath: resolve(cwd, settings.esbKey),
    caPath: settings.esbCa === undefined ? undefined : resolve(cwd, settings.esbCa),
    timeoutMs: settings.esbTimeoutMs
  }
}

const MASK = '****'
const mask = (value: string): string => (value === '' ? value : MASK)
const maskOptional = (value: string | undefined): string | undefined => (value === undefined ? value : mask(value))

/** A Config with its apps as a plain object, so JSON.stringify and loggers show them. */
export type PrintableConfig = Omit<Config, 'apps'> & { apps: Record<string, AppConfig> }

/** A copy safe to print: tokens, Knack credentials, PEM contents and a database password become "****". */
export function maskConfig(config: Config): PrintableConfig {
  const apps: Record<string, AppConfig> = {}
  for (const [name, app] of config.apps) {
    apps[name] = { ...app, credentials: { appId: mask(app.credentials.appId), apiKey: mask(app.credentials.apiKey) } }
  }
  return {
    ...config,
    esb: {
      ...config.esb,
      cert: mask(config.esb.cert),
      key: mask(config.esb.key),
      ca: maskOptional(config.esb.ca),
      username: maskOptional(config.esb.username),
      password: maskOptional(config.esb.password)
    },
    webhookSecret: mask(config.webhookSecret),
    adminToken: mask(config.adminToken),
    operators: config.operators.map((o) => ({ name: o.name, token: mask(o.token) })),
    databaseUrl: maskUrlPassword(config.databaseUrl),
    alerts: {
      ...config.alerts,
      slackUrl: maskOptional(config.alerts.slackUrl),
      teamsUrl: maskOptional(config.alerts.teamsUrl),
      webhookUrl: maskOptional(config.alerts.webhookUrl),
      email: config.alerts.email && { ...config.alerts.email, smtpUrl: mask(config.alerts.email.smtpUrl) }
    },
    retryScheduleMs: [...config.retryScheduleMs],
    apps
  }
}

function maskUrlPassword(url: string): string {
  // postgres://user:secret@host/db → postgres://user:****@host/db; sqlite paths have none.
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:).*@/, `$1${MASK}@`)
}
