// /readyz: can this process do its job? The store answers, apps are loaded, and the ESB client
// certificate is readable, matches its key and has not expired (a warning under 14 days).
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { Config } from '../config/types.js'
import type { Ledger } from '../ledger/types.js'
import type { Metrics } from './metrics.js'

export interface Check {
  ok: boolean
  message?: string
  [key: string]: unknown
}
export interface ReadinessReport {
  ok: boolean
  checks: Record<string, Check>
}

const WARN_DAYS = 14
const DAY_MS = 86_400_000

export function createReadiness(deps: { config: Config; ledger: Ledger; clock: () => Date; metrics?: Metrics | undefined }) {
  const { metrics } = deps
  if (metrics) {
    // The expiry gauge is set at start-up and fresh at every scrape, whether or not /readyz is polled.
    const refresh = () => certificateCheck(deps.config, deps.clock(), metrics)
    metrics.watchCertificate(refresh)
    void refresh().catch(() => undefined)
  }
  return async function readiness(): Promise<ReadinessReport> {
    const checks: Record<string, Check> = {
      database: await databaseCheck(deps.ledger),
      apps: { ok: deps.config.apps.size > 0, apps: [...deps.config.apps.keys()] },
      certificate: await certificateCheck(deps.config, deps.clock(), deps.metrics)
    }
    return { ok: Object.values(checks).every((c) => c.ok), checks }
  }
}

async function databaseCheck(ledger: Ledger): Promise<Check> {
  try {
    await ledger.ping()
    return { ok: true }
  } catch (err) {
    return { ok: false, message: `database unreachable: ${(err as Error).message}` }
  }
}

/** Reads the files again on every check: a rotated or unmounted certificate shows at once. */
export async function certificateCheck(config: Config, now: Date, metrics?: Metrics): Promise<Check> {
  const check = await readCertificate(config, now, metrics)
  // No certificate to measure: drop the gauge rather than show a stale number of days.
  if (check.days_to_expiry === undefined) metrics?.certDaysToExpiry.remove({ cert: CERT_LABEL })
  return check
}

const CERT_LABEL = 'esb_client'

async function readCertificate(config: Config, now: Date, metrics?: Metrics): Promise<Check> {
  let certPem: string
  let keyPem: string
  try {
    certPem = await readFile(config.esb.certPath, 'utf8')
  } catch (err) {
    return { ok: false, message: `ESB_CERT ${config.esb.certPath} is not readable (${(err as NodeJS.ErrnoException).code ?? 'error'})` }
  }
  try {
    keyPem = await readFile(config.esb.keyPath, 'utf8')
  } catch (err) {
    return { ok: false, message: `ESB_KEY ${config.esb.keyPath} is not readable (${(err as NodeJS.ErrnoException).code ?? 'error'})` }
  }
  let cert: X509Certificate
  try {
    cert = new X509Certificate(certPem)
  } catch {
    return { ok: false, message: `ESB_CERT ${config.esb.certPath} is not a PEM certificate` }
  }
  let matches = false
  try {
    matches = cert.checkPrivateKey(createPrivateKey(keyPem))
  } catch {
    return { ok: false, message: `ESB_KEY ${config.esb.keyPath} is not a PEM private key` }
  }
  const expiresAt = new Date(cert.validTo)
  const days = Math.floor((expiresAt.getTime() - now.getTime()) / DAY_MS)
  metrics?.certDaysToExpiry.set({ cert: CERT_LABEL }, days)
  const check: Check = { ok: matches && expiresAt > now, days_to_expiry: days, expires_at: expiresAt.toISOString(), subject: cert.subject.replace(/\n/g, ', ') }
  if (!matches) check.message = 'the client certificate does not match its key'
  else if (expiresAt <= now) check.message = `the client certificate expired on ${expiresAt.toISOString()}`
  else if (days < WARN_DAYS) check.warning = `the client certificate expires in ${days} days`
  return check
}
