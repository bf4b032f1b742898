// The alerts outbox: alerts are written here before any channel is tried, and each channel's
// send is marked here, so a crash loses none, a restart repeats none, and replicas sharing
// PostgreSQL send each one once. The store knows SQL and JSON; what an alert says is alerts/'s.

/** What a send of one alert to one channel has come to. */
export const ALERT_SEND_STATUSES = ['pending', 'sent', 'failed', 'expired'] as const
export type AlertSendStatus = (typeof ALERT_SEND_STATUSES)[number]

/** Plain JSON: what an alert is about, rendered for each channel at send time. */
export type AlertPayload = Record<string, unknown>

export interface NewAlert {
  kind: string
  /** One alert per key, ever, across processes: e.g. `esb.paused:2026-11-28T10:00:00.000Z`. */
  dedupeKey: string
  payload: AlertPayload
}

export interface StoredAlert extends NewAlert {
  id: number
  createdAt: Date
}

export interface AlertSend {
  alertId: number
  channel: string
  status: AlertSendStatus
  /** Tries made so far (failed ones and the one that worked). */
  attempts: number
  nextAttemptAt: Date
  lastError: string | null
  lastAttemptAt: Date | null
  sentAt: Date | null
}

export interface AlertWithSends extends StoredAlert {
  sends: AlertSend[]
}

/** A send leased to one sender: nobody else tries it until the lease ends. */
export interface ClaimedSend {
  alert: StoredAlert
  channel: string
  attempts: number
}

/** One channel's queue, for the console and /alerts: is it keeping up or failing? */
export interface ChannelQueue {
  channel: string
  pending: number
  /** The oldest pending send: the one the channel is working on or retrying. */
  head: { alertId: number; attempts: number; lastError: string | null; lastAttemptAt: Date | null; nextAttemptAt: Date } | null
  lastSentAt: Date | null
  /** The latest send given up on (refused payload or expired), if any. */
  lastGivenUp: { alertId: number; status: AlertSendStatus; lastError: string | null; at: Date } | null
}

/** A state that lasts (e.g. "a delivery is stuck"): opened once, closed once, across processes. */
export interface Episode {
  name: string
  startedAt: Date
  detail: AlertPayload
}

/** An item waiting to be gathered with others into one alert (e.g. a dead delivery). */
export interface GroupItem {
  id: number
  group: string
  item: AlertPayload
  createdAt: Date
}

/** A dead delivery as the outbox needs it. */
export interface DeadDeliveryRow {
  id: number
  app: string
  recordId: string
  srNumber: string
  lastError: string | null
  diedAt: Date
}

/** The oldest undelivered delivery. */
export interface PendingHead {
  id: number
  app: string
  recordId: string
  srNumber: string
  status: string
  createdAt: Date
}

/** One app's day for the digest. */
export interface AppDayCounts {
  app: string
  /** Deliveries that reached sent / skipped / dead within the window. */
  sent: number
  skipped: number
  dead: number
  /** Pending now, and of those created before `stuckBefore`. */
  pending: number
  stuck: number
  oldest: PendingHead | null
}

export interface AlertStore {
  /** Write an alert with one pending send per channel, unless its dedupe key is already there.
   *  On disk when it resolves. */
  add(alert: NewAlert, channels: readonly string[], now: Date): Promise<{ id: number; created: boolean }>
  /** Whether an alert with this key exists. */
  has(dedupeKey: string): Promise<boolean>
  /** Park an item for the group's next alert; false when its key was seen before. `ref` names
   *  what it is about (a delivery id), for unannouncedDead. */
  addGroupItem(group: string, dedupeKey: string, item: AlertPayload, now: Date, ref?: string): Promise<boolean>
  /** Deliveries that went dead in [since, before) with no item of `group` about them written
   *  since: their announcement was lost (the process died between the two writes). */
  unannouncedDead(group: string, since: Date, before: Date, limit: number): Promise<DeadDeliveryRow[]>
  /** When the group's oldest waiting item was written at or before `closeBefore`, gather every
   *  waiting item into one alert (`build`), atomically and by one process only. Returns its id. */
  closeGroup(
    group: string,
    closeBefore: Date,
    build: (items: GroupItem[]) => NewAlert,
    channels: readonly string[],
    now: Date
  ): Promise<number | null>
  episode(name: string): Promise<Episode | undefined>
  /** Open the episode and write its alert in one transaction; false when it was already open. */
  openEpisode(name: string, detail: AlertPayload, alert: NewAlert, channels: readonly string[], now: Date): Promise<boolean>
  /** Close the episode and write the alert `build` makes of it, in one transaction; false when
   *  it was not open. */
  closeEpisode(name: string, build: (episode: Episode) => NewAlert, channels: readonly string[], now: Date): Promise<boolean>
  /** Lease the oldest pending send of each of `channels` (per channel one at a time, in alert
   *  order) when it is due and not leased by a live sender. */
  claimSends(owner: string, leaseMs: number, now: Date, channels: readonly string[]): Promise<ClaimedSend[]>
  /** The claimed send went out. False (and nothing changed) when `owner` no longer holds it. */
  markSent(alertId: number, channel: string, owner: string, now: Date): Promise<boolean>
  /** The claimed send failed and is tried again at `nextAttemptAt`. */
  markRetry(alertId: number, channel: string, owner: string, error: string, nextAttemptAt: Date, now: Date): Promise<boolean>
  /** The claimed send is given up: the channel refused the payload (`failed`) or it is too old (`expired`). */
  markGivenUp(alertId: number, channel: string, owner: string, status: 'failed' | 'expired', error: string, now: Date): Promise<boolean>
  /** Release leases held by other owners (single-process stores after a crash): due now. */
  releaseForeignLeases(owner: string, now: Date): Promise<number>
  /** When the next pending send becomes due (for the sender's sleep), or null. */
  nextSendDueAt(): Promise<Date | null>
  /** Newest first, with their sends. */
  recent(limit: number): Promise<AlertWithSends[]>
  /** Alerts of these kinds written in [from, to), oldest first. */
  between(kinds: readonly string[], from: Date, to: Date): Promise<StoredAlert[]>
  channelQueues(): Promise<ChannelQueue[]>
  oldestPending(): Promise<PendingHead | null>
  /** Per app with deliveries: what reached a final status in [from, to), what is pending now. */
  dayCounts(from: Date, to: Date, stuckBefore: Date): Promise<AppDayCounts[]>
}
