// Rows of the alert tables → the outbox's types. SQLite gives epoch-ms integers and JSON text;
// PostgreSQL gives Date objects, bigint ids as strings and parsed JSONB.
import type {
  AlertPayload,
  AlertSend,
  AlertSendStatus,
  AppDayCounts,
  ChannelQueue,
  DeadDeliveryRow,
  Episode,
  GroupItem,
  PendingHead,
  StoredAlert
} from './alert-types.js'
import type { Row } from './rows.js'

export function num(v: unknown, column: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' || typeof v === 'bigint' ? Number(v) : NaN
  if (!Number.isFinite(n)) throw new Error(`ledger column ${column} is not a number`)
  return n
}

export function date(v: unknown, column: string): Date {
  return v instanceof Date ? v : new Date(num(v, column))
}

export function dateOrNull(v: unknown, column: string): Date | null {
  return v === null || v === undefined ? null : date(v, column)
}

function text(v: unknown, column: string): string {
  if (typeof v !== 'string') throw new Error(`ledger column ${column} is not text`)
  return v
}

function textOrNull(v: unknown, column: string): string | null {
  return v === null || v === undefined ? null : text(v, column)
}

export function json(v: unknown, column: string): AlertPayload {
  const parsed: unknown = typeof v === 'string' ? JSON.parse(v) : v
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`ledger column ${column} is not a JSON object`)
  return parsed as AlertPayload
}

export function toStoredAlert(row: Row): StoredAlert {
  return {
    id: num(row.id, 'id'),
    kind: text(row.kind, 'kind'),
    dedupeKey: text(row.dedupe_key, 'dedupe_key'),
    payload: json(row.payload, 'payload'),
    createdAt: date(row.created_at, 'created_at')
  }
}

export function toAlertSend(row: Row): AlertSend {
  return {
    alertId: num(row.alert_id, 'alert_id'),
    channel: text(row.channel, 'channel'),
    status: text(row.status, 'status') as AlertSendStatus,
    attempts: num(row.attempts, 'attempts'),
    nextAttemptAt: date(row.next_attempt_at, 'next_attempt_at'),
    lastError: textOrNull(row.last_error, 'last_error'),
    lastAttemptAt: dateOrNull(row.last_attempt_at, 'last_attempt_at'),
    sentAt: dateOrNull(row.sent_at, 'sent_at')
  }
}

export function toGroupItem(row: Row): GroupItem {
  return { id: num(row.id, 'id'), group: text(row.grp, 'grp'), item: json(row.item, 'item'), createdAt: date(row.created_at, 'created_at') }
}

export function toEpisode(row: Row): Episode {
  return { name: text(row.name, 'name'), startedAt: date(row.started_at, 'started_at'), detail: json(row.detail, 'detail') }
}

export function toDeadDeliveryRow(row: Row): DeadDeliveryRow {
  return {
    id: num(row.id, 'id'),
    app: text(row.app, 'app'),
    recordId: text(row.record_id, 'record_id'),
    srNumber: text(row.sr_number, 'sr_number'),
    lastError: textOrNull(row.last_error, 'last_error'),
    diedAt: date(row.updated_at, 'updated_at')
  }
}

export function toPendingHead(row: Row): PendingHead {
  return {
    id: num(row.id, 'id'),
    app: text(row.app, 'app'),
    recordId: text(row.record_id, 'record_id'),
    srNumber: text(row.sr_number, 'sr_number'),
    status: text(row.status, 'status'),
    createdAt: date(row.created_at, 'created_at')
  }
}

/** The digest's per-app figures from the three queries both stores run (alert-sql.ts). */
export function assembleDayCounts(finals: Row[], pending: Row[], oldest: Row[]): AppDayCounts[] {
  const byApp = new Map<string, AppDayCounts>()
  const entry = (app: string): AppDayCounts => {
    let e = byApp.get(app)
    if (!e) {
      e = { app, sent: 0, skipped: 0, dead: 0, pending: 0, stuck: 0, oldest: null }
      byApp.set(app, e)
    }
    return e
  }
  for (const r of finals) {
    const e = entry(text(r.app, 'app'))
    const status = text(r.status, 'status')
    if (status === 'sent' || status === 'skipped' || status === 'dead') e[status] = num(r.n, 'n')
  }
  for (const r of pending) {
    const e = entry(text(r.app, 'app'))
    e.pending = num(r.pending, 'pending')
    e.stuck = num(r.stuck ?? 0, 'stuck')
  }
  for (const r of oldest) entry(text(r.app, 'app')).oldest = toPendingHead(r)
  return [...byApp.values()].sort((a, b) => a.app.localeCompare(b.app))
}

/** Each channel's queue from its pending head (with the count), last success and last give-up. */
export function assembleChannelQueues(pendingHeads: Row[], lastSent: Row[], givenUp: Row[]): ChannelQueue[] {
  const byChannel = new Map<string, ChannelQueue>()
  const entry = (channel: string): ChannelQueue => {
    let e = byChannel.get(channel)
    if (!e) {
      e = { channel, pending: 0, head: null, lastSentAt: null, lastGivenUp: null }
      byChannel.set(channel, e)
    }
    return e
  }
  for (const r of pendingHeads) {
    const send = toAlertSend(r)
    const e = entry(send.channel)
    e.pending = num(r.n, 'n')
    e.head = { alertId: send.alertId, attempts: send.attempts, lastError: send.lastError, lastAttemptAt: send.lastAttemptAt, nextAttemptAt: send.nextAttemptAt }
  }
  for (const r of lastSent) entry(text(r.channel, 'channel')).lastSentAt = dateOrNull(r.sent_at, 'sent_at')
  for (const r of givenUp) {
    const send = toAlertSend(r)
    entry(send.channel).lastGivenUp = {
      alertId: send.alertId,
      status: send.status,
      lastError: send.lastError,
      at: send.lastAttemptAt ?? send.nextAttemptAt
    }
  }
  return [...byChannel.values()].sort((a, b) => a.channel.localeCompare(b.channel))
}
