// What the console's overview and GET /alerts show: recent alerts with how each channel took
// them, and each channel's state — keeping up, or failing since its last success.
import type { AlertSendStatus, AlertStore, ChannelQueue } from '../ledger/alert-types.js'
import type { Severity } from './message.js'

export interface ChannelState {
  channel: string
  /** Configured in this process (a channel no longer configured may still hold pending alerts). */
  configured: boolean
  /** Its oldest pending alert has failed at least once, or the latest send it refused came after its last success. */
  failing: boolean
  pending: number
  attempts: number
  lastError: string | null
  lastAttemptAt: Date | null
  nextAttemptAt: Date | null
  lastSentAt: Date | null
}

export interface RecentAlert {
  id: number
  kind: string
  severity: Severity
  title: string
  createdAt: Date
  sends: Array<{ channel: string; status: AlertSendStatus; attempts: number; lastError: string | null; sentAt: Date | null }>
}

export interface AlertOverview {
  channels: ChannelState[]
  recent: RecentAlert[]
}

export function channelState(channel: string, configured: boolean, q: ChannelQueue | undefined): ChannelState {
  const head = q?.head ?? null
  const givenUp = q?.lastGivenUp ?? null
  const refusedSinceSuccess = givenUp !== null && givenUp.status === 'failed' && (q?.lastSentAt == null || givenUp.at > q.lastSentAt)
  const headFailing = head !== null && head.attempts > 0
  return {
    channel,
    configured,
    failing: headFailing || refusedSinceSuccess,
    pending: q?.pending ?? 0,
    attempts: head?.attempts ?? 0,
    lastError: headFailing ? head.lastError : refusedSinceSuccess ? givenUp.lastError : null,
    lastAttemptAt: headFailing ? head.lastAttemptAt : refusedSinceSuccess ? givenUp.at : null,
    nextAttemptAt: head?.nextAttemptAt ?? null,
    lastSentAt: q?.lastSentAt ?? null
  }
}

export async function alertOverview(
  store: AlertStore,
  configured: readonly string[],
  describe: (alert: { id: number; kind: string; dedupeKey: string; payload: Record<string, unknown>; createdAt: Date }) => { severity: Severity; title: string },
  limit: number
): Promise<AlertOverview> {
  const [queues, recent] = await Promise.all([store.channelQueues(), store.recent(limit)])
  const names = [...new Set([...configured, ...queues.map((q) => q.channel)])]
  return {
    channels: names.map((name) => channelState(name, configured.includes(name), queues.find((q) => q.channel === name))),
    recent: recent.map((a) => ({
      id: a.id,
      kind: a.kind,
      ...describe(a),
      createdAt: a.createdAt,
      sends: a.sends.map((s) => ({ channel: s.channel, status: s.status, attempts: s.attempts, lastError: s.lastError, sentAt: s.sentAt }))
    }))
  }
}
