// The validated configuration every part of the service receives. Built once at start-up by
// loadConfig(); nothing reads process.env after that.
import type { DigestAt, Operator, TrustProxy } from './env-values.js'
import type { EsbAuthMode } from './env.js'

export type { DigestAt, Operator, TrustProxy } from './env-values.js'
export type { EsbAuthMode } from './env.js'

/** Message variables an app file maps to Knack field ids (reference/apps.md). */
export const FIELD_VARIABLES = [
  'id',
  'atd_activity_id',
  'emi_id',
  'sr_number',
  'issue_status_code_snapshot',
  'esb_status',
  'activity_datetime',
  'activity_details',
  'activity_name',
  'csr_activity_id',
  'csr_activity_code'
] as const
export type FieldVariable = (typeof FIELD_VARIABLES)[number]

export interface KnackCredentials {
  appId: string
  apiKey: string
}

export interface AppStatuses {
  ready: string
  sent: string
  skipped: string
  failed?: string | undefined
}

export interface AppConfig {
  /** File name without `.json`: the name used in URLs and the CLI. */
  name: string
  obj: string
  scene: string
  view: string
  /** IANA time zone of the app's wall-clock dates. */
  timezone: string
  /** Message variable → Knack field id (`id` maps to the literal `id`). */
  fields: Record<FieldVariable, string>
  /** Activity name (trimmed, white space collapsed) → CSR code, or null = do not send. */
  activity_codes: Record<string, string | null>
  status_rewrites: Record<string, string>
  statuses: AppStatuses
  outcome_code: string
  /** Activity name (compared like activity_codes) → outcome code, where it differs from outcome_code. */
  outcome_codes: Record<string, string>
  credentials: KnackCredentials
}

export interface EsbConfig {
  endpoint: string
  /** How the service proves itself: a client certificate, HTTP Basic, or both. */
  auth: EsbAuthMode
  /** PEM contents, read at start-up so an unreadable file stops start-up ('' when auth is basic). */
  cert: string
  key: string
  ca?: string | undefined
  certPath: string
  keyPath: string
  caPath?: string | undefined
  /** HTTP Basic credentials (auth basic or mtls+basic). */
  username?: string | undefined
  password?: string | undefined
  timeoutMs: number
  /** Consecutive failures of the endpoint itself after which sending pauses. */
  pauseAfter: number
  /** While paused, one delivery is tried this often. */
  probeEveryMs: number
}

export interface AlertConfig {
  slackUrl?: string | undefined
  teamsUrl?: string | undefined
  webhookUrl?: string | undefined
  /** E-mail alerts: all three or none (start-up checks). */
  email?: { smtpUrl: string; from: string; to: string[] } | undefined
  /** The oldest undelivered delivery older than this is "stuck". */
  stuckAfterMs: number
  /** Deliveries going dead within this long of the first make one alert (ALERT_GROUP_WINDOW). */
  groupWindowMs: number
  /** A daily summary at this time of day in the first app's timezone. */
  digestAt?: DigestAt | undefined
}

export interface Config {
  knackApiUrl: string
  esb: EsbConfig
  webhookSecret: string
  /** Read a webhook body's record back from Knack before sending it. */
  webhookVerify: boolean
  adminToken: string
  /** Everyone allowed into the admin routes and the console: "admin" (ADMIN_TOKEN) first, then OPERATOR_TOKENS. */
  operators: Operator[]
  /** The service's external URL (no trailing slash), for links in alerts. */
  publicUrl?: string | undefined
  /** Whose X-Forwarded-Proto/-For to believe (TRUST_PROXY): the console's Secure cookie and the
   *  login rate limit's client address depend on it. */
  trustProxy: TrustProxy
  databaseUrl: string
  /** Waits between delivery attempts, in ms; after the last, a delivery is dead. */
  retryScheduleMs: number[]
  knackRateLimit: number
  /** Held per window on top of Knack's 1 s by the limiter (KNACK_ARRIVAL_SPREAD), in ms. */
  knackArrivalSpreadMs: number
  sweepIntervalMs?: number | undefined
  /** sent/skipped deliveries older than this are pruned; null keeps everything. */
  retentionMs: number | null
  alerts: AlertConfig
  /** How long a claimed delivery stays owned by one worker before another may resume it. */
  leaseMs: number
  workerConcurrency: number
  port: number
  host: string
  logLevel: string
  apps: Map<string, AppConfig>
  /** Directory holding the app files (for readiness and `check`). */
  appsDir: string
}
