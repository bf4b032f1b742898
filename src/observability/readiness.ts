// /readyz: can this process do its job? The store answers, apps are loaded, and the client
// certificate the ESB client is USING (replacements are picked up while running: a refused one
// is shown beside it) is valid and not expired (a warning under 14 days). It also says whether
// sending to the ESB is paused — which keeps the answer 200: intake still works while paused.
import type { CertificateStatus } from '../clients/esb/types.js'
import type { Config } from '../config/types.js'
import type { EsbGate, Ledger } from '../ledger/types.js'
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

export interface ReadinessDeps {
  config: Config
  ledger: Ledger
  clock: () => Date
  metrics?: Metrics | undefined
  /** The ESB client's certificate in use and any refused replacement. */
  esb: { certificate(): CertificateStatus }
  /** The shared ESB gate (paused or not). */
  gate: { current(): Promise<EsbGate> }
}

const WARN_DAYS = 14
const DAY_MS = 86_400_000
const CERT_LABEL = 'esb_client'
const REFUSED_LABEL = 'esb_client_refused'

export function createReadiness(deps: ReadinessDeps) {
  const { metrics } = deps
  if (metrics) {
    // The expiry gauge is fresh at every scrape, whether or not /readyz is polled.
    metrics.watchCertificate(async () => certificateCheck(deps.esb.certificate(), deps.clock(), metrics))
    certificateCheck(deps.esb.certificate(), deps.clock(), metrics)
  }
  return async function readiness(): Promise<ReadinessReport> {
    const checks: Record<string, Check> = {
      database: await databaseCheck(deps.ledger),
      apps: { ok: deps.config.apps.size > 0, apps: [...deps.config.apps.keys()] },
      certificate: certificateCheck(deps.esb.certificate(), deps.clock(), deps.metrics),
      esb: await esbCheck(deps.gate, deps.config)
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

const daysTo = (at: Date, now: Date): number => Math.floor((at.getTime() - now.getTime()) / DAY_MS)

/** The certificate in use (ok unless it is unusable or expired) and the refused replacement, if any. */
export function certificateCheck(status: CertificateStatus, now: Date, metrics?: Metrics): Check {
  const check: Check = { ok: status.problem === undefined, used: status.used }
  const inUse = status.inUse
  if (!status.used) {
    metrics?.certDaysToExpiry.remove({ cert: CERT_LABEL })
    check.note = 'ESB_AUTH=basic: no client certificate is presented'
  } else if (inUse) {
    const days = daysTo(inUse.expiresAt, now)
    metrics?.certDaysToExpiry.set({ cert: CERT_LABEL }, days)
    Object.assign(check, { days_to_expiry: days, expires_at: inUse.expiresAt.toISOString(), subject: inUse.subject, fingerprint: inUse.fingerprint, in_use_since: inUse.since.toISOString() })
    if (inUse.expiresAt <= now) {
      check.ok = false
      check.message = `the client certificate expired on ${inUse.expiresAt.toISOString()}`
    } else if (days < WARN_DAYS) check.warning = `the client certificate expires in ${days} days`
  } else {
    // Nothing to measure: drop the gauge rather than show a stale number of days.
    metrics?.certDaysToExpiry.remove({ cert: CERT_LABEL })
  }
  if (status.problem !== undefined) check.message = status.problem
  const refused = status.refused
  if (refused) {
    check.refused = {
      at: refused.at.toISOString(),
      reason: refused.reason,
      ...(refused.subject !== undefined ? { subject: refused.subject } : {}),
      ...(refused.expiresAt !== undefined ? { expires_at: refused.expiresAt.toISOString(), days_to_expiry: daysTo(refused.expiresAt, now) } : {})
    }
    check.warning ??= `replacement certificate files were refused (${refused.reason}); the ones in use stay`
    if (refused.expiresAt) metrics?.certDaysToExpiry.set({ cert: REFUSED_LABEL }, daysTo(refused.expiresAt, now))
    else metrics?.certDaysToExpiry.remove({ cert: REFUSED_LABEL })
  } else {
    metrics?.certDaysToExpiry.remove({ cert: REFUSED_LABEL })
  }
  return check
}

/** Always ok while the gate can be read: a paused ESB does not make this process unready. */
async function esbCheck(gate: ReadinessDeps['gate'], config: Config): Promise<Check> {
  let g: EsbGate
  try {
    g = await gate.current()
  } catch (err) {
    return { ok: false, message: `cannot read the ESB state: ${(err as Error).message}` }
  }
  const iso = (d: Date | null) => (d ? d.toISOString() : null)
  const check: Check = {
    ok: true,
    state: g.state,
    since: iso(g.since),
    last_error: g.lastError,
    endpoint_failures: g.endpointFailures,
    record_failures: g.recordFailures.length,
    pause_after: config.esb.pauseAfter
  }
  if (g.state === 'paused') {
    check.cause = g.cause
    check.next_probe_at = iso(g.probeAt)
    check.reason =
      g.cause === 'credentials'
        ? 'sending paused: the ESB refused the credentials (check ESB_AUTH, ESB_USERNAME/ESB_PASSWORD and the client certificate)'
        : g.cause === 'record'
          ? `sending paused: ${config.esb.pauseAfter} different deliveries in a row got an answer about the record, as when every message gets the same fault`
          : `sending paused: the ESB endpoint failed ${config.esb.pauseAfter} times in a row`
  }
  return check
}
