// The alerts outbox on the SQLite ledger's file. Writes go through the ledger's group commit
// (`write`: BEGIN IMMEDIATE, one savepoint each), so they are on disk when they resolve and
// serialised with every other process on the same file by SQLite's write lock.
import type Database from 'better-sqlite3'
import {
  CHANNEL_HEADS,
  LAST_GIVEN_UP_BY_CHANNEL,
  LAST_SENT_BY_CHANNEL,
  OLDEST_PENDING,
  OLDEST_PENDING_BY_APP,
  PENDING_BY_CHANNEL,
  dayFinals,
  dueHeads,
  pendingByApp,
  unannouncedDead
} from './alert-sql.js'
import {
  assembleChannelQueues,
  assembleDayCounts,
  date,
  num,
  toAlertSend,
  toDeadDeliveryRow,
  toEpisode,
  toGroupItem,
  toPendingHead,
  toStoredAlert
} from './alert-rows.js'
import type { AlertStore, ClaimedSend, NewAlert } from './alert-types.js'
import type { Row } from './rows.js'

type Params = Record<string, string | number | null>
/** Runs `fn` inside the ledger's next group-commit transaction; resolves after the commit. */
export type SqliteWrite = <T>(fn: () => T) => Promise<T>

export function createSqliteAlertStore(db: Database.Database, write: SqliteWrite): AlertStore {
  const p = (sql: string) => db.prepare<[Params], Row>(sql)
  const p0 = (sql: string) => db.prepare<[], Row>(sql)
  const s = {
    insertAlert: p(`INSERT INTO alerts (kind, dedupe_key, payload, created_at) VALUES (@kind, @key, @payload, @now)
      ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`),
    alertByKey: p(`SELECT id FROM alerts WHERE dedupe_key = @key`),
    insertSend: p(`INSERT INTO alert_sends (alert_id, channel, status, attempts, next_attempt_at) VALUES (@id, @channel, 'pending', 0, @now)`),
    insertItem: p(`INSERT INTO alert_group_items (grp, dedupe_key, item, ref, created_at) VALUES (@grp, @key, @item, @ref, @now)
      ON CONFLICT (dedupe_key) DO NOTHING`),
    unannounced: p(unannouncedDead('@grp', '@since', '@before', '@limit')),
    waiting: p(`SELECT * FROM alert_group_items WHERE grp = @grp AND alert_id IS NULL ORDER BY id`),
    firstWaiting: p(`SELECT created_at FROM alert_group_items WHERE grp = @grp AND alert_id IS NULL ORDER BY id LIMIT 1`),
    assignItems: p(`UPDATE alert_group_items SET alert_id = @alert WHERE grp = @grp AND alert_id IS NULL AND id <= @maxId`),
    episode: p(`SELECT * FROM alert_episodes WHERE name = @name`),
    openEpisode: p(`INSERT INTO alert_episodes (name, started_at, detail) VALUES (@name, @now, @detail)
      ON CONFLICT (name) DO NOTHING`),
    closeEpisode: p(`DELETE FROM alert_episodes WHERE name = @name RETURNING *`),
    due: p(dueHeads('@now', 's.channel IN (SELECT value FROM json_each(@channels))')),
    lease: p(`UPDATE alert_sends SET lease_owner = @owner, lease_until = @until
      WHERE alert_id = @id AND channel = @channel RETURNING attempts`),
    alert: p(`SELECT * FROM alerts WHERE id = @id`),
    sent: p(`UPDATE alert_sends SET status = 'sent', attempts = attempts + 1, sent_at = @now, last_attempt_at = @now,
        last_error = NULL, lease_owner = NULL, lease_until = NULL
      WHERE alert_id = @id AND channel = @channel AND status = 'pending' AND lease_owner = @owner`),
    retry: p(`UPDATE alert_sends SET attempts = attempts + 1, last_error = @error, last_attempt_at = @now,
        next_attempt_at = @next, lease_owner = NULL, lease_until = NULL
      WHERE alert_id = @id AND channel = @channel AND status = 'pending' AND lease_owner = @owner`),
    givenUp: p(`UPDATE alert_sends SET status = @status, attempts = attempts + CASE WHEN @status = 'failed' THEN 1 ELSE 0 END,
        last_error = @error, last_attempt_at = @now, lease_owner = NULL, lease_until = NULL
      WHERE alert_id = @id AND channel = @channel AND status = 'pending' AND lease_owner = @owner`),
    releaseForeign: p(`UPDATE alert_sends SET lease_owner = NULL, lease_until = NULL, next_attempt_at = MIN(next_attempt_at, @now)
      WHERE status = 'pending' AND lease_owner IS NOT NULL AND lease_owner <> @owner`),
    nextDue: p0(`SELECT MIN(MAX(s.next_attempt_at, COALESCE(s.lease_until, 0))) AS due FROM ${CHANNEL_HEADS} h
      JOIN alert_sends s ON s.alert_id = h.alert_id AND s.channel = h.channel`),
    recent: p(`SELECT * FROM alerts ORDER BY id DESC LIMIT @limit`),
    recentSends: p(`SELECT * FROM alert_sends WHERE alert_id IN (SELECT id FROM alerts ORDER BY id DESC LIMIT @limit)
      ORDER BY alert_id, channel`),
    between: p(`SELECT * FROM alerts WHERE kind IN (SELECT value FROM json_each(@kinds))
      AND created_at >= @from AND created_at < @to ORDER BY id`),
    pendingByChannel: p0(PENDING_BY_CHANNEL),
    lastSent: p0(LAST_SENT_BY_CHANNEL),
    givenUpByChannel: p0(LAST_GIVEN_UP_BY_CHANNEL),
    oldestPending: p0(OLDEST_PENDING),
    dayFinals: p(dayFinals('@from', '@to')),
    pendingByApp: p(pendingByApp('@stuckBefore')),
    oldestByApp: p0(OLDEST_PENDING_BY_APP)
  }

  /** Inside a write: insert the alert and its sends unless the key exists. */
  const addNow = (alert: NewAlert, channels: readonly string[], now: number): { id: number; created: boolean } => {
    const inserted = s.insertAlert.get({ kind: alert.kind, key: alert.dedupeKey, payload: JSON.stringify(alert.payload), now })
    if (!inserted) {
      const existing = s.alertByKey.get({ key: alert.dedupeKey })
      return { id: num(existing?.id, 'id'), created: false }
    }
    const id = num(inserted.id, 'id')
    for (const channel of new Set(channels)) s.insertSend.run({ id, channel, now })
    return { id, created: true }
  }

  return {
    add(alert, channels, now) {
      return write(() => addNow(alert, channels, now.getTime()))
    },

    async has(dedupeKey) {
      return s.alertByKey.get({ key: dedupeKey }) !== undefined
    },

    addGroupItem(group, dedupeKey, item, now, ref) {
      return write(() => s.insertItem.run({ grp: group, key: dedupeKey, item: JSON.stringify(item), ref: ref ?? null, now: now.getTime() }).changes > 0)
    },

    async unannouncedDead(group, since, before, limit) {
      return s.unannounced.all({ grp: group, since: since.getTime(), before: before.getTime(), limit }).map(toDeadDeliveryRow)
    },

    async closeGroup(group, closeBefore, build, channels, now) {
      // Asked every few seconds: a read first, so an idle group costs no write transaction.
      const first = s.firstWaiting.get({ grp: group })
      if (!first || date(first.created_at, 'created_at').getTime() > closeBefore.getTime()) return null
      return write(() => {
        const items = s.waiting.all({ grp: group }).map(toGroupItem)
        const first = items[0]
        if (!first || first.createdAt.getTime() > closeBefore.getTime()) return null
        const { id } = addNow(build(items), channels, now.getTime())
        s.assignItems.run({ alert: id, grp: group, maxId: items[items.length - 1]?.id ?? first.id })
        return id
      })
    },

    async episode(name) {
      const row = s.episode.get({ name })
      return row ? toEpisode(row) : undefined
    },

    openEpisode(name, detail, alert, channels, now) {
      return write(() => {
        if (s.openEpisode.run({ name, now: now.getTime(), detail: JSON.stringify(detail) }).changes === 0) return false
        addNow(alert, channels, now.getTime())
        return true
      })
    },

    closeEpisode(name, build, channels, now) {
      return write(() => {
        const row = s.closeEpisode.get({ name })
        if (!row) return false
        addNow(build(toEpisode(row)), channels, now.getTime())
        return true
      })
    },

    async claimSends(owner, leaseMs, now, channels) {
      if (s.due.all({ now: now.getTime(), channels: JSON.stringify(channels) }).length === 0) return []
      return write(() => {
        const t = now.getTime()
        const claimed: ClaimedSend[] = []
        for (const head of s.due.all({ now: t, channels: JSON.stringify(channels) })) {
          const id = num(head.alert_id, 'alert_id')
          const channel = String(head.channel)
          const leased = s.lease.get({ owner, until: t + leaseMs, id, channel })
          const alert = s.alert.get({ id })
          if (leased && alert) claimed.push({ alert: toStoredAlert(alert), channel, attempts: num(leased.attempts, 'attempts') })
        }
        return claimed
      })
    },

    markSent(alertId, channel, owner, now) {
      return write(() => s.sent.run({ id: alertId, channel, owner, now: now.getTime() }).changes > 0)
    },

    markRetry(alertId, channel, owner, error, nextAttemptAt, now) {
      return write(() => s.retry.run({ id: alertId, channel, owner, error, next: nextAttemptAt.getTime(), now: now.getTime() }).changes > 0)
    },

    markGivenUp(alertId, channel, owner, status, error, now) {
      return write(() => s.givenUp.run({ id: alertId, channel, owner, status, error, now: now.getTime() }).changes > 0)
    },

    releaseForeignLeases(owner, now) {
      return write(() => s.releaseForeign.run({ owner, now: now.getTime() }).changes)
    },

    async nextSendDueAt() {
      const due = s.nextDue.get()?.due
      return due === null || due === undefined ? null : date(due, 'next_attempt_at')
    },

    async recent(limit) {
      const alerts = s.recent.all({ limit }).map(toStoredAlert)
      const sends = s.recentSends.all({ limit }).map(toAlertSend)
      return alerts.map((a) => ({ ...a, sends: sends.filter((x) => x.alertId === a.id) }))
    },

    async between(kinds, from, to) {
      return s.between.all({ kinds: JSON.stringify(kinds), from: from.getTime(), to: to.getTime() }).map(toStoredAlert)
    },

    async channelQueues() {
      return assembleChannelQueues(s.pendingByChannel.all(), s.lastSent.all(), s.givenUpByChannel.all())
    },

    async oldestPending() {
      const row = s.oldestPending.get()
      return row ? toPendingHead(row) : null
    },

    async dayCounts(from, to, stuckBefore) {
      return assembleDayCounts(
        s.dayFinals.all({ from: from.getTime(), to: to.getTime() }),
        s.pendingByApp.all({ stuckBefore: stuckBefore.getTime() }),
        s.oldestByApp.all()
      )
    }
  }
}
