// The overview's alerts panel: channels that are failing (and which are configured at all) and
// the newest alerts with how each channel took them — from the alert service's overview, the
// same function GET /alerts answers from.
import type { AlertOverview } from '../alerts/overview.js'
import type { Severity } from '../alerts/message.js'
import type { AlertSendStatus } from '../ledger/alert-types.js'
import { timeView, type TimeView } from './format.js'
import type { Tone } from './overview.js'

export interface FailingChannelView {
  channel: string
  pending: number
  attempts: number
  lastError: string | null
  lastAttempt: TimeView | null
  nextAttempt: TimeView | null
  lastSent: TimeView | null
  configured: boolean
}

export interface RecentAlertView {
  title: string
  kind: string
  severity: Severity
  tone: Tone
  created: TimeView | null
  sends: Array<{ channel: string; status: AlertSendStatus; tone: Tone; error: string | null }>
}

export interface AlertsView {
  /** Channels alerts go to ("slack, email"); empty: recorded here only. */
  configured: string[]
  failing: FailingChannelView[]
  recent: RecentAlertView[]
  /** The outbox could not be read. */
  problem: string | null
}

/** How many alerts the overview lists. */
export const RECENT_ALERTS = 10

const SEVERITY_TONE: Record<Severity, Tone> = { critical: 'bad', warning: 'warn', info: 'ok', resolved: 'ok' }
const SEND_TONE: Record<AlertSendStatus, Tone> = { sent: 'ok', pending: 'warn', failed: 'bad', expired: 'bad' }

export function alertsView(o: AlertOverview, now: Date, zone: string): AlertsView {
  return {
    configured: o.channels.filter((c) => c.configured).map((c) => c.channel),
    failing: o.channels
      .filter((c) => c.failing)
      .map((c) => ({
        channel: c.channel,
        pending: c.pending,
        attempts: c.attempts,
        lastError: c.lastError,
        lastAttempt: timeView(c.lastAttemptAt, now, zone),
        nextAttempt: c.pending > 0 ? timeView(c.nextAttemptAt, now, zone) : null,
        lastSent: timeView(c.lastSentAt, now, zone),
        configured: c.configured
      })),
    recent: o.recent.map((a) => ({
      title: a.title,
      kind: a.kind,
      severity: a.severity,
      tone: SEVERITY_TONE[a.severity],
      created: timeView(a.createdAt, now, zone),
      sends: a.sends.map((s) => ({ channel: s.channel, status: s.status, tone: SEND_TONE[s.status], error: s.status === 'sent' ? null : s.lastError }))
    })),
    problem: null
  }
}

export function alertsUnreadable(err: unknown): AlertsView {
  return { configured: [], failing: [], recent: [], problem: `alerts could not be read: ${err instanceof Error ? err.message : String(err)}` }
}
