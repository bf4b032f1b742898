// The outbox's sending side: claim each channel's next due alert, send it, mark the result. Each
// channel runs on its own — a slow or dead channel holds up only its own queue, never another
// channel and never a delivery (nothing on the worker's path waits for this).
import type { Logger } from 'pino'
import { isChannelFailure } from '../errors.js'
import type { AlertStore, ClaimedSend } from '../ledger/alert-types.js'
import { backoffMs, type BackoffOptions } from './backoff.js'
import type { AlertChannel } from './channels/types.js'
import type { AlertMetrics } from './metrics.js'
import type { AlertMessage } from './message.js'
import type { Scrub } from './scrub.js'

export interface SenderDeps {
  store: AlertStore
  channels: readonly AlertChannel[]
  render: (send: ClaimedSend) => AlertMessage
  clock: () => Date
  logger: Logger
  metrics: AlertMetrics
  scrub: Scrub
  owner: string
  leaseMs: number
  backoff: BackoffOptions
  /** An alert not out after this long is given up (`expired`): news that old misleads. */
  maxAgeMs: number
  /** A send finished: there may be more to claim. */
  onSettled: () => void
}

export interface Sender {
  /** Claim what is due and start sending it; resolves once claimed (not sent). */
  round(): Promise<number>
  /** Resolves when the sends in flight have settled, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<void>
}

export function createSender(deps: SenderDeps): Sender {
  const byName = new Map(deps.channels.map((c) => [c.name, c]))
  const names = [...byName.keys()]
  const inFlight = new Set<Promise<void>>()

  async function sendOne(claim: ClaimedSend): Promise<void> {
    const { alert, channel: name } = claim
    const channel = byName.get(name as AlertChannel['name'])
    if (!channel) return
    const count = (outcome: 'sent' | 'retry' | 'failed' | 'expired') => deps.metrics.sends.inc({ event: alert.kind, channel: name, outcome })
    const log = deps.logger.child({ alert: alert.id, kind: alert.kind, channel: name })
    if (deps.clock().getTime() - alert.createdAt.getTime() > deps.maxAgeMs) {
      await deps.store.markGivenUp(alert.id, name, deps.owner, 'expired', `not sent within ${Math.round(deps.maxAgeMs / 3_600_000)} h`, deps.clock())
      count('expired')
      log.warn('alert expired before the channel took it')
      return
    }
    try {
      await channel.send(deps.render(claim))
    } catch (err) {
      const reason = deps.scrub(err instanceof Error ? err.message : String(err))
      const now = deps.clock()
      if (isChannelFailure(err) && !err.retryable) {
        await deps.store.markGivenUp(alert.id, name, deps.owner, 'failed', reason, now)
        count('failed')
        log.error({ reason }, 'alert channel refused the alert; not retried')
        return
      }
      const wait = backoffMs(claim.attempts + 1, deps.backoff, isChannelFailure(err) ? err.retryAfterMs : undefined)
      await deps.store.markRetry(alert.id, name, deps.owner, reason, new Date(now.getTime() + wait), now)
      count('retry')
      log.warn({ reason, attempts: claim.attempts + 1, retryInMs: wait }, 'alert channel failed; will retry')
      return
    }
    if (await deps.store.markSent(alert.id, name, deps.owner, deps.clock())) {
      count('sent')
      log.info('alert sent')
    } else {
      // Our lease ran out while sending and another sender took the alert: it may arrive twice.
      log.warn('alert sent after its lease ended')
    }
  }

  return {
    async round() {
      if (names.length === 0) return 0
      const claimed = await deps.store.claimSends(deps.owner, deps.leaseMs, deps.clock(), names)
      for (const c of claimed) {
        const p = sendOne(c)
          .catch((err: unknown) => deps.logger.error({ err, alert: c.alert.id, channel: c.channel }, 'alert send could not be recorded'))
          .finally(() => {
            inFlight.delete(p)
            deps.onSettled()
          })
        inFlight.add(p)
      }
      return claimed.length
    },
    async drain(timeoutMs) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs)
      })
      await Promise.race([Promise.allSettled([...inFlight]), timeout])
      clearTimeout(timer)
    }
  }
}
