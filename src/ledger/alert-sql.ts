// SQL the SQLite and PostgreSQL alert stores share (both dialects accept it); bind parameters are
// passed in because the stores name them differently (@now, $1).
import { PENDING_STATUSES } from './types.js'

/** Each channel's head: its oldest pending send. One index seek per channel (alert_sends_pending). */
export const CHANNEL_HEADS = `(SELECT channel, MIN(alert_id) AS alert_id FROM alert_sends
  WHERE status = 'pending' GROUP BY channel)`

/** Heads that are due and not held by a live lease, of the channels `inChannels` allows (a
 *  condition on s.channel). */
export const dueHeads = (now: string, inChannels: string) => `SELECT s.alert_id, s.channel FROM ${CHANNEL_HEADS} h
  JOIN alert_sends s ON s.alert_id = h.alert_id AND s.channel = h.channel
  WHERE s.next_attempt_at <= ${now} AND (s.lease_until IS NULL OR s.lease_until <= ${now}) AND ${inChannels}`

/** The oldest undelivered delivery: the first by (created_at, id) of each pending status, each
 *  one seek of the (status, created_at, id) index, then the first of those four. */
export const OLDEST_PENDING = `SELECT id, app, record_id, sr_number, status, created_at FROM (${PENDING_STATUSES.map(
  (s) => `SELECT * FROM (SELECT id, app, record_id, sr_number, status, created_at FROM deliveries WHERE status = '${s}' ORDER BY created_at, id LIMIT 1) AS h_${s}`
).join(' UNION ALL ')}) AS heads ORDER BY created_at, id LIMIT 1`

const PENDING = `(${PENDING_STATUSES.map((s) => `'${s}'`).join(', ')})`

export const dayFinals = (from: string, to: string) => `SELECT app, status, COUNT(*) AS n FROM deliveries
  WHERE status IN ('sent', 'skipped', 'dead') AND updated_at >= ${from} AND updated_at < ${to}
  GROUP BY app, status`

export const pendingByApp = (stuckBefore: string) => `SELECT app, COUNT(*) AS pending,
    SUM(CASE WHEN created_at < ${stuckBefore} THEN 1 ELSE 0 END) AS stuck
  FROM deliveries WHERE status IN ${PENDING} GROUP BY app`

export const OLDEST_PENDING_BY_APP = `SELECT id, app, record_id, sr_number, status, created_at FROM deliveries
  WHERE id IN (SELECT MIN(id) FROM deliveries WHERE status IN ${PENDING} GROUP BY app)`

/** Dead deliveries in a window with no item of the group about them since they died. */
export const unannouncedDead = (group: string, since: string, before: string, limit: string) => `SELECT d.id, d.app, d.record_id,
    d.sr_number, d.last_error, d.updated_at FROM deliveries d
  WHERE d.status = 'dead' AND d.updated_at >= ${since} AND d.updated_at < ${before}
    AND NOT EXISTS (SELECT 1 FROM alert_group_items i
      WHERE i.grp = ${group} AND i.ref = CAST(d.id AS TEXT) AND i.created_at >= d.updated_at)
  ORDER BY d.updated_at, d.id LIMIT ${limit}`

export const LAST_SENT_BY_CHANNEL = `SELECT channel, MAX(sent_at) AS sent_at FROM alert_sends
  WHERE status = 'sent' GROUP BY channel`

export const LAST_GIVEN_UP_BY_CHANNEL = `SELECT s.* FROM alert_sends s
  WHERE s.alert_id = (SELECT MAX(x.alert_id) FROM alert_sends x
    WHERE x.channel = s.channel AND x.status IN ('failed', 'expired'))
    AND s.status IN ('failed', 'expired')`

export const PENDING_BY_CHANNEL = `SELECT s.*, h.n FROM (SELECT channel, MIN(alert_id) AS alert_id, COUNT(*) AS n
    FROM alert_sends WHERE status = 'pending' GROUP BY channel) h
  JOIN alert_sends s ON s.alert_id = h.alert_id AND s.channel = h.channel`
