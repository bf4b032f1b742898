// What the alert loop looks at on every tick, besides events: dead deliveries waiting to be
// gathered, a stuck backlog (an episode: alerted when it begins and when it clears), the
// certificate's expiry, and the daily summary. Every decision ends in a keyed write to the
// outbox, so replicas running the same checks at once still write each alert once.
import type { Logger } from 'pino'
import type { DigestAt } from '../config/types.js'
import type { AlertStore, GroupItem, NewAlert } from '../ledger/alert-types.js'
import { expiryAlert, type CertificateSource } from './certificate.js'
import { buildDigest, digestDue, digestKey } from './digest.js'
import { DEAD_GROUP } from './from-events.js'
import { deadDeliverySchema, MAX_LISTED_DEAD, type DeadDelivery, type PayloadOf } from './kinds.js'

export const STUCK_EPISODE = 'delivery.stuck'
/** Dead deliveries whose announcement never reached the outbox are looked for this far back… */
const UNANNOUNCED_LOOKBACK_MS = 3_600_000
/** …once they have been dead this long (a live process writes its item within milliseconds). */
const UNANNOUNCED_LAG_MS = 60_000
const UNANNOUNCED_BATCH = 500

export interface ChecksDeps {
  store: AlertStore
  channels: readonly string[]
  logger: Logger
  timezone: string
  apps: readonly string[]
  stuckAfterMs: number
  groupWindowMs: number
  digestAt?: DigestAt | undefined
  certificate?: CertificateSource | undefined
  certificateEveryMs: number
  /** An alert was written: the sender may have work. */
  written: (alert: NewAlert) => void
}

export interface Checks {
  run(now: Date): Promise<void>
}

/** One alert for every dead delivery gathered: the first MAX_LISTED_DEAD listed, all counted. */
export function deadAlert(items: readonly GroupItem[]): NewAlert {
  const deliveries: DeadDelivery[] = items.flatMap((i) => {
    const parsed = deadDeliverySchema.safeParse(i.item)
    return parsed.success ? [parsed.data] : []
  })
  const apps: Record<string, number> = {}
  for (const d of deliveries) apps[d.app] = (apps[d.app] ?? 0) + 1
  const payload: PayloadOf<'deliveries.dead'> = { count: deliveries.length, deliveries: deliveries.slice(0, MAX_LISTED_DEAD), apps }
  return { kind: 'deliveries.dead', dedupeKey: `deliveries.dead:${items[0]?.id ?? 0}`, payload }
}

export function createChecks(deps: ChecksDeps): Checks {
  const { store } = deps
  let certificateCheckedAt = -Infinity
  let digestWrittenFor: string | undefined

  async function groups(now: Date) {
    let built: NewAlert | undefined
    const id = await store.closeGroup(
      DEAD_GROUP,
      new Date(now.getTime() - deps.groupWindowMs),
      (items) => (built = deadAlert(items)),
      deps.channels,
      now
    )
    if (id !== null && built) deps.written(built)
  }

  /** The worker announces a death after writing it; a process killed in between loses the
   *  announcement. The ledger still says dead: park the item now, as the listener would have. */
  async function unannounced(now: Date) {
    const missed = await store.unannouncedDead(
      DEAD_GROUP,
      new Date(now.getTime() - UNANNOUNCED_LOOKBACK_MS),
      new Date(now.getTime() - UNANNOUNCED_LAG_MS),
      UNANNOUNCED_BATCH
    )
    for (const d of missed) {
      const item: DeadDelivery = { id: d.id, app: d.app, recordId: d.recordId, srNumber: d.srNumber, reason: d.lastError ?? 'dead', at: d.diedAt.toISOString() }
      await store.addGroupItem(DEAD_GROUP, `${d.id}:${d.diedAt.getTime()}`, item, now, String(d.id))
    }
    if (missed.length > 0) deps.logger.warn({ deliveries: missed.map((d) => d.id) }, 'dead deliveries whose alert was never recorded (the process stopped in between): alerting now')
  }

  async function stuck(now: Date) {
    const oldest = await store.oldestPending()
    const isStuck = oldest !== null && now.getTime() - oldest.createdAt.getTime() > deps.stuckAfterMs
    const open = await store.episode(STUCK_EPISODE)
    if (isStuck && !open) {
      const payload: PayloadOf<'delivery.stuck'> = {
        since: now.toISOString(),
        stuckAfterMs: deps.stuckAfterMs,
        oldest: { ...oldest, createdAt: oldest.createdAt.toISOString() }
      }
      const alert: NewAlert = { kind: 'delivery.stuck', dedupeKey: `delivery.stuck:${now.toISOString()}`, payload }
      if (await store.openEpisode(STUCK_EPISODE, { delivery: oldest.id }, alert, deps.channels, now)) deps.written(alert)
    } else if (!isStuck && open) {
      let built: NewAlert | undefined
      const closed = await store.closeEpisode(
        STUCK_EPISODE,
        (episode) => {
          const payload: PayloadOf<'delivery.unstuck'> = { since: episode.startedAt.toISOString(), clearedAt: now.toISOString(), stuckAfterMs: deps.stuckAfterMs }
          built = { kind: 'delivery.unstuck', dedupeKey: `delivery.unstuck:${episode.startedAt.toISOString()}`, payload }
          return built
        },
        deps.channels,
        now
      )
      if (closed && built) deps.written(built)
    }
  }

  async function certificate(now: Date) {
    if (!deps.certificate || now.getTime() - certificateCheckedAt < deps.certificateEveryMs) return
    certificateCheckedAt = now.getTime()
    const cert = await deps.certificate()
    const alert = cert ? expiryAlert(cert, now) : null
    if (alert && (await store.add(alert, deps.channels, now)).created) deps.written(alert)
  }

  async function digest(now: Date) {
    if (!deps.digestAt) return
    const window = digestDue(now, deps.timezone, deps.digestAt)
    if (!window || digestWrittenFor === window.date) return
    if (!(await store.has(digestKey(window.date)))) {
      const alert = await buildDigest({ store, window, now, timezone: deps.timezone, stuckAfterMs: deps.stuckAfterMs, apps: deps.apps })
      if ((await store.add(alert, deps.channels, now)).created) deps.written(alert)
    }
    digestWrittenFor = window.date
  }

  return {
    async run(now) {
      // Each check on its own: one failing (the database busy, a file unreadable) skips only itself.
      for (const [name, check] of [['unannounced', unannounced], ['groups', groups], ['stuck', stuck], ['certificate', certificate], ['digest', digest]] as const) {
        try {
          await check(now)
        } catch (err) {
          deps.logger.warn({ err, check: name }, 'alert check failed; trying again next tick')
        }
      }
    }
  }
}
