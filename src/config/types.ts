// The validated configuration every part of the service receives. Built once at start-up by
// loadConfig(); nothing reads process.env after that.

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
  credentials: KnackCredentials
}

export interface EsbConfig {
  endpoint: string
  /** PEM contents, read at start-up so an unreadable file stops start-up. */
  cert: string
  key: string
  ca?: string | undefined
  certPath: string
  keyPath: string
  caPath?: string | undefined
  timeoutMs: number
}

export interface Config {
  knackApiUrl: string
  esb: EsbConfig
  webhookSecret: string
  adminToken: string
  databaseUrl: string
  /** Waits between delivery attempts, in ms; after the last, a delivery is dead. */
  retryScheduleMs: number[]
  knackRateLimit: number
  sweepIntervalMs?: number | undefined
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
