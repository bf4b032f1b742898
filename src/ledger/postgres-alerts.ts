// The alerts outbox on PostgreSQL, shared by every replica. "Once" rests on the database alone:
// unique dedupe keys (a second insert of a key waits for the first and then does nothing), row
// locks for gathering a group and for episodes, and leased sends claimed with SKIP LOCKED.
import type pg from 'pg'
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
  dateOrNull,
  num,
  toAlertSend,
  toDeadDeliveryRow,
  toEpisode,
  toGroupItem,
  toPendingHead,
  toStoredAlert
} from './alert-rows.js'
import type { AlertStore, NewAlert } from './alert-types.js'
import type { Row } from './rows.js'

type Queryable = Pick<pg.PoolClient, 'query'>

/**
 * Why SKIP LOCKED is enough here, unlike deliveries' claim: the head of a channel is its oldest
 * pending send whether leased or not, so a claimer that skips a head another replica is leasing
 * finds nothing for that channel (it does not move on to the next send); once the lease commits,
 * the re-checked WHERE (lease_until > now) keeps it out.
 */
const CLAIM = `UPDATE alert_sends u SET lease_owner = $2, lease_until = $3
  FROM (${dueHeads('$1', 's.channel = ANY($4::text[])')} FOR UPDATE OF s SKIP LOCKED) AS pick
  WHERE u.alert_id = pick.alert_id AND u.channel = pick.channel
  RETURNING u.alert_id, u.channel, u.attempts`

export function createPostgresAlertStore(pool: pg.Pool): AlertStore {
  async function inTransaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect()
    let broken = false
    try {
      await client.query('BEGIN')
      const result = await fn(client)
      await client.query('COMMIT')
      return result
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true
      })
      throw err
    } finally {
      client.release(broken)
    }
  }

  async function addIn(c: Queryable, alert: NewAlert, channels: readonly string[], now: Date): Promise<{ id: number; created: boolean }> {
    const inserted = await c.query<Row>(
      `INSERT INTO alerts (kind, dedupe_key, payload, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      [alert.kind, alert.dedupeKey, JSON.stringify(alert.payload), now]
    )
    const row = inserted.rows[0]
    if (!row) {
      const existing = await c.query<Row>('SELECT id FROM alerts WHERE dedupe_key = $1', [alert.dedupeKey])
      return { id: num(existing.rows[0]?.id, 'id'), created: false }
    }
    const id = num(row.id, 'id')
    const unique = [...new Set(channels)]
    if (unique.length > 0) {
      await c.query(
        `INSERT INTO alert_sends (alert_id, channel, status, attempts, next_attempt_at)
         SELECT $1, channel, 'pending', 0, $3 FROM unnest($2::text[]) AS channel`,
        [id, unique, now]
      )
    }
    return { id, created: true }
  }

  async function update(sql: string, params: unknown[]): Promise<boolean> {
    const res = await pool.query(sql, params)
    return (res.rowCount ?? 0) > 0
  }

  return {
    add(alert, channels, now) {
      return inTransaction((c) => addIn(c, alert, channels, now))
    },

    async has(dedupeKey) {
      const res = await pool.query('SELECT 1 FROM alerts WHERE dedupe_key = $1', [dedupeKey])
      return res.rows.length > 0
    },

    async addGroupItem(group, dedupeKey, item, now, ref) {
      return update(
        `INSERT INTO alert_group_items (grp, dedupe_key, item, ref, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (dedupe_key) DO NOTHING`,
        [group, dedupeKey, JSON.stringify(item), ref ?? null, now]
      )
    },

    async unannouncedDead(group, since, before, limit) {
      const res = await pool.query<Row>(unannouncedDead('$1', '$2', '$3', '$4'), [group, since, before, limit])
      return res.rows.map(toDeadDeliveryRow)
    },

    async closeGroup(group, closeBefore, build, channels, now) {
      // Asked every few seconds by every replica: a plain read first, a transaction only when due.
      const first = await pool.query<Row>('SELECT created_at FROM alert_group_items WHERE grp = $1 AND alert_id IS NULL ORDER BY id LIMIT 1', [group])
      const firstAt = dateOrNull(first.rows[0]?.created_at, 'created_at')
      if (!firstAt || firstAt.getTime() > closeBefore.getTime()) return null
      return inTransaction(async (c) => {
        // FOR UPDATE (waiting, not skipping): a second replica closing at once waits, then sees
        // these rows taken (alert_id set) and finds only items newer than its snapshot, if any.
        const res = await c.query<Row>(
          'SELECT * FROM alert_group_items WHERE grp = $1 AND alert_id IS NULL ORDER BY id FOR UPDATE',
          [group]
        )
        const items = res.rows.map(toGroupItem)
        const first = items[0]
        if (!first || first.createdAt.getTime() > closeBefore.getTime()) return null
        const { id } = await addIn(c, build(items), channels, now)
        await c.query('UPDATE alert_group_items SET alert_id = $1 WHERE id = ANY($2::bigint[])', [id, items.map((i) => i.id)])
        return id
      })
    },

    async episode(name) {
      const res = await pool.query<Row>('SELECT * FROM alert_episodes WHERE name = $1', [name])
      return res.rows[0] ? toEpisode(res.rows[0]) : undefined
    },

    openEpisode(name, detail, alert, channels, now) {
      return inTransaction(async (c) => {
        const res = await c.query(
          `INSERT INTO alert_episodes (name, started_at, detail) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
          [name, now, JSON.stringify(detail)]
        )
        if ((res.rowCount ?? 0) === 0) return false
        await addIn(c, alert, channels, now)
        return true
      })
    },

    closeEpisode(name, build, channels, now) {
      return inTransaction(async (c) => {
        const res = await c.query<Row>('DELETE FROM alert_episodes WHERE name = $1 RETURNING *', [name])
        const row = res.rows[0]
        if (!row) return false
        await addIn(c, build(toEpisode(row)), channels, now)
        return true
      })
    },

    async claimSends(owner, leaseMs, now, channels) {
      const leased = await pool.query<Row>(CLAIM, [now, owner, new Date(now.getTime() + leaseMs), channels])
      if (leased.rows.length === 0) return []
      const ids = leased.rows.map((r) => num(r.alert_id, 'alert_id'))
      const alerts = await pool.query<Row>('SELECT * FROM alerts WHERE id = ANY($1::bigint[])', [ids])
      const byId = new Map(alerts.rows.map((r) => [num(r.id, 'id'), toStoredAlert(r)]))
      return leased.rows.flatMap((r) => {
        const alert = byId.get(num(r.alert_id, 'alert_id'))
        return alert ? [{ alert, channel: String(r.channel), attempts: num(r.attempts, 'attempts') }] : []
      })
    },

    markSent(alertId, channel, owner, now) {
      return update(
        `UPDATE alert_sends SET status = 'sent', attempts = attempts + 1, sent_at = $4, last_attempt_at = $4,
           last_error = NULL, lease_owner = NULL, lease_until = NULL
         WHERE alert_id = $1 AND channel = $2 AND status = 'pending' AND lease_owner = $3`,
        [alertId, channel, owner, now]
      )
    },

    markRetry(alertId, channel, owner, error, nextAttemptAt, now) {
      return update(
        `UPDATE alert_sends SET attempts = attempts + 1, last_error = $4, last_attempt_at = $6, next_attempt_at = $5,
           lease_owner = NULL, lease_until = NULL
         WHERE alert_id = $1 AND channel = $2 AND status = 'pending' AND lease_owner = $3`,
        [alertId, channel, owner, error, nextAttemptAt, now]
      )
    },

    markGivenUp(alertId, channel, owner, status, error, now) {
      return update(
        `UPDATE alert_sends SET status = $4, attempts = attempts + CASE WHEN $4 = 'failed' THEN 1 ELSE 0 END,
           last_error = $5, last_attempt_at = $6, lease_owner = NULL, lease_until = NULL
         WHERE alert_id = $1 AND channel = $2 AND status = 'pending' AND lease_owner = $3`,
        [alertId, channel, owner, status, error, now]
      )
    },

    async releaseForeignLeases(owner, now) {
      const res = await pool.query(
        `UPDATE alert_sends SET lease_owner = NULL, lease_until = NULL, next_attempt_at = LEAST(next_attempt_at, $2)
         WHERE status = 'pending' AND lease_owner IS NOT NULL AND lease_owner <> $1`,
        [owner, now]
      )
      return res.rowCount ?? 0
    },

    async nextSendDueAt() {
      const res = await pool.query<Row>(
        `SELECT MIN(GREATEST(s.next_attempt_at, s.lease_until)) AS due FROM ${CHANNEL_HEADS} h
         JOIN alert_sends s ON s.alert_id = h.alert_id AND s.channel = h.channel`
      )
      return dateOrNull(res.rows[0]?.due, 'next_attempt_at')
    },

    async recent(limit) {
      const alerts = await pool.query<Row>('SELECT * FROM alerts ORDER BY id DESC LIMIT $1', [limit])
      const ids = alerts.rows.map((r) => num(r.id, 'id'))
      const sends = await pool.query<Row>('SELECT * FROM alert_sends WHERE alert_id = ANY($1::bigint[]) ORDER BY alert_id, channel', [ids])
      const all = sends.rows.map(toAlertSend)
      return alerts.rows.map(toStoredAlert).map((a) => ({ ...a, sends: all.filter((s) => s.alertId === a.id) }))
    },

    async between(kinds, from, to) {
      const res = await pool.query<Row>(
        'SELECT * FROM alerts WHERE kind = ANY($1::text[]) AND created_at >= $2 AND created_at < $3 ORDER BY id',
        [kinds, from, to]
      )
      return res.rows.map(toStoredAlert)
    },

    async channelQueues() {
      const [pending, lastSent, givenUp] = await Promise.all([
        pool.query<Row>(PENDING_BY_CHANNEL),
        pool.query<Row>(LAST_SENT_BY_CHANNEL),
        pool.query<Row>(LAST_GIVEN_UP_BY_CHANNEL)
      ])
      return assembleChannelQueues(pending.rows, lastSent.rows, givenUp.rows)
    },

    async oldestPending() {
      const res = await pool.query<Row>(OLDEST_PENDING)
      return res.rows[0] ? toPendingHead(res.rows[0]) : null
    },

    async dayCounts(from, to, stuckBefore) {
      const [finals, pending, oldest] = await Promise.all([
        pool.query<Row>(dayFinals('$1', '$2'), [from, to]),
        pool.query<Row>(pendingByApp('$1'), [stuckBefore]),
        pool.query<Row>(OLDEST_PENDING_BY_APP)
      ])
      return assembleDayCounts(finals.rows, pending.rows, oldest.rows)
    }
  }
}
