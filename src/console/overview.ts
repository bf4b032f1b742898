// The overview's view model: per app, counts by status, the oldest undelivered delivery, the last
// sweep and Knack's calls left today; for the service, the ESB's state and the certificate. Read
// from the same places as /readyz and /metrics: the ledger, the readiness checks, the gauges.
import { DELIVERY_STATUSES, PENDING_STATUSES, type DeliveryStatus } from '../ledger/types.js'
import type { Check } from '../observability/readiness.js'
import { alertsUnreadable, alertsView, RECENT_ALERTS, type AlertsView } from './alerts-view.js'
import { STATUS_MEANING, displayZone, timeView, type TimeView } from './format.js'
import type { ConsoleContext } from './plugin.js'

export interface StatusCount {
  status: DeliveryStatus
  n: number
  meaning: string
  /** The deliveries page filtered to this app and status. */
  href: string
}

export interface AppCard {
  name: string
  counts: StatusCount[]
  total: number
  pending: number
  dead: number
  oldestPending: TimeView | null
  lastSweep: {
    trigger: string
    finished: TimeView | null
    found: number
    queued: number
    duplicates: number
    invalid: number
    error: string | null
  } | null
  /** Knack's X-PlanLimit-Remaining as last seen for this app's Knack application ("24,890"), or null. */
  knackCallsLeft: string | null
  /** "3 dead deliveries need a person" */
  deadText: string
  deadHref: string
  sweepAction: string
}

export interface CertificateView {
  ok: boolean
  daysToExpiry: number | null
  expires: TimeView | null
  subject: string | null
  /** Why it is not usable, or a warning that it expires soon. */
  problem: string | null
  warning: string | null
  /** Why there is no certificate to show (ESB_AUTH=basic). */
  note: string | null
  tone: Tone
}

/** How a value should catch the eye: fine, worth a look, needs a person. */
export type Tone = 'ok' | 'warn' | 'bad'

/** The ESB as /readyz reports it: sending ok, or paused since when and why. */
export interface EsbView {
  state: 'ok' | 'paused' | 'unknown'
  tone: Tone
  since: TimeView | null
  /** "paused since" or "sending since" (the last resume). */
  sinceLabel: string
  /** Why sending paused (endpoint failing, every record faulted, credentials refused). */
  reason: string | null
  /** The newest ESB failure (kept after a resume: what the last pause was about). */
  lastError: string | null
  nextProbe: TimeView | null
  /** The state could not be read. */
  problem: string | null
}

export interface Overview {
  apps: AppCard[]
  esb: EsbView
  certificate: CertificateView
  /** Failing alert channels and the newest alerts. */
  alerts: AlertsView
  /** The zone times are shown in (the first app's). */
  zone: string
}

export async function buildOverview(cx: ConsoleContext): Promise<Overview> {
  const now = cx.clock()
  const zone = displayZone(cx.config)
  const [summaries, sweeps, readiness, plan, alerts] = await Promise.all([
    cx.ledger.appSummaries(),
    cx.ledger.lastSweeps(),
    cx.readiness(),
    cx.metrics.knackPlanRemaining.get(),
    // The page still shows everything else when the outbox cannot be read.
    cx.alerts.overview(RECENT_ALERTS).then((o) => alertsView(o, now, zone), alertsUnreadable)
  ])
  const callsLeft = new Map(plan.values.map((v) => [String(v.labels.app_id), v.value]))

  const apps = [...cx.config.apps.values()].map((app): AppCard => {
    const summary = summaries.find((s) => s.app === app.name)
    const sweep = sweeps.find((s) => s.app === app.name)
    const counts = DELIVERY_STATUSES.map((status) => ({
      status,
      n: summary?.counts[status] ?? 0,
      meaning: STATUS_MEANING[status],
      href: cx.paths.to(`/deliveries?app=${encodeURIComponent(app.name)}&status=${status}`)
    }))
    return {
      name: app.name,
      counts,
      total: counts.reduce((sum, c) => sum + c.n, 0),
      pending: counts.filter((c) => PENDING_STATUSES.includes(c.status)).reduce((sum, c) => sum + c.n, 0),
      dead: summary?.counts.dead ?? 0,
      oldestPending: timeView(summary?.oldestPending, now, zone),
      lastSweep: sweep
        ? {
            trigger: sweep.trigger,
            finished: timeView(sweep.finishedAt, now, zone),
            found: sweep.found,
            queued: sweep.queued,
            duplicates: sweep.duplicates,
            invalid: sweep.invalid,
            error: sweep.error
          }
        : null,
      knackCallsLeft: callsLeft.get(app.credentials.appId)?.toLocaleString('en-US') ?? null,
      deadText: (summary?.counts.dead ?? 0) === 1 ? '1 dead delivery needs a person' : `${summary?.counts.dead ?? 0} dead deliveries need a person`,
      deadHref: cx.paths.to(`/deliveries?app=${encodeURIComponent(app.name)}&status=dead`),
      sweepAction: cx.paths.to(`/apps/${encodeURIComponent(app.name)}/sweep`)
    }
  })
  return {
    apps,
    esb: esbView(readiness.checks.esb, now, zone),
    certificate: certificateView(readiness.checks.certificate, now, zone),
    alerts,
    zone
  }
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)
const date = (v: unknown): Date | null => (typeof v === 'string' ? new Date(v) : null)

function esbView(check: Check | undefined, now: Date, zone: string): EsbView {
  const state = check?.state === 'ok' || check?.state === 'paused' ? check.state : 'unknown'
  return {
    state,
    tone: state === 'ok' ? 'ok' : 'bad',
    since: timeView(date(check?.since), now, zone),
    sinceLabel: state === 'paused' ? 'paused since' : 'sending since',
    reason: text(check?.reason),
    lastError: text(check?.last_error),
    nextProbe: state === 'paused' ? timeView(date(check?.next_probe_at), now, zone) : null,
    problem: check && !check.ok ? (text(check.message) ?? 'not readable') : check ? null : 'not reported'
  }
}

function certificateView(check: Check | undefined, now: Date, zone: string): CertificateView {
  const days = typeof check?.days_to_expiry === 'number' ? check.days_to_expiry : null
  const expires = typeof check?.expires_at === 'string' ? new Date(check.expires_at) : null
  const warning = typeof check?.warning === 'string' ? check.warning : null
  return {
    ok: check?.ok === true,
    daysToExpiry: days,
    expires: timeView(expires, now, zone),
    subject: typeof check?.subject === 'string' ? check.subject : null,
    problem: check && !check.ok ? (check.message ?? 'not usable') : null,
    warning,
    note: text(check?.note),
    tone: check?.ok !== true ? 'bad' : warning ? 'warn' : 'ok'
  }
}
