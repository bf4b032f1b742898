// Turning database rows into the ledger's types. Both stores name their columns alike; SQLite
// gives epoch-ms integers and JSON text, PostgreSQL gives Date objects, bigint ids as strings and
// parsed JSONB, so every value goes through a tolerant converter.
import type { KnackRecord } from '../clients/knack/types.js'
import { DELIVERY_STATUSES } from './types.js'
import type { AppSummary, Attempt, ConsoleSession, Delivery, DeliverySource, DeliveryStatus, EsbGate, EsbGateState, EsbPauseCause, NewDelivery, SweepRun } from './types.js'
import type { Action, PruneRun } from './lifecycle-types.js'

export type Row = Record<string, unknown>

/** The 'once' uniqueness key: one row per app, record and content, enforced by a unique index. */
export function dedupeKey(input: Pick<NewDelivery, 'app' | 'recordId' | 'contentHash'>): string {
  // Unit separator: cannot occur in app names, Knack ids or hex hashes.
  return `${input.app}\u001f${input.recordId}\u001f${input.contentHash}`
}

/** A replay's uniqueness key: one replay delivery per source delivery, whoever asks and however
 *  often. Two parts never equal a three-part 'once' key. */
export function replayKey(sourceDeliveryId: number): string {
  return `replay\u001f${sourceDeliveryId}`
}

export function emptyCounts(): Record<DeliveryStatus, number> {
  return Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0])) as Record<DeliveryStatus, number>
}

function toNumber(v: unknown, column: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' || typeof v === 'bigint' ? Number(v) : NaN
  if (!Number.isFinite(n)) throw new Error(`ledger column ${column} is not a number`)
  return n
}

function toDate(v: unknown, column: string): Date {
  if (v instanceof Date) return v
  return new Date(toNumber(v, column))
}

export function toDateOrNull(v: unknown, column: string): Date | null {
  return v === null || v === undefined ? null : toDate(v, column)
}

function toText(v: unknown, column: string): string {
  if (typeof v !== 'string') throw new Error(`ledger column ${column} is not text`)
  return v
}

function toTextOrNull(v: unknown, column: string): string | null {
  return v === null || v === undefined ? null : toText(v, column)
}

function toRecord(v: unknown): KnackRecord {
  const parsed: unknown = typeof v === 'string' ? JSON.parse(v) : v
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { id?: unknown }).id !== 'string') {
    throw new Error('ledger column record does not hold a Knack record')
  }
  return parsed as KnackRecord
}

export function toDelivery(row: Row): Delivery {
  return {
    id: toNumber(row.id, 'id'),
    app: toText(row.app, 'app'),
    recordId: toText(row.record_id, 'record_id'),
    srNumber: toText(row.sr_number, 'sr_number'),
    atdActivityId: toNumber(row.atd_activity_id, 'atd_activity_id'),
    contentHash: toText(row.content_hash, 'content_hash'),
    source: toText(row.source, 'source') as DeliverySource,
    record: toRecord(row.record),
    // Rows from before migration 11 were queued as they are sent (no fetch before send).
    recordOrigin: row.record_origin === 'body' ? 'body' : 'knack',
    status: toText(row.status, 'status') as DeliveryStatus,
    attempts: toNumber(row.attempts, 'attempts'),
    nextAttemptAt: toDate(row.next_attempt_at, 'next_attempt_at'),
    leaseUntil: toDateOrNull(row.lease_until, 'lease_until'),
    leaseOwner: toTextOrNull(row.lease_owner, 'lease_owner'),
    lastError: toTextOrNull(row.last_error, 'last_error'),
    esbResponse: toTextOrNull(row.esb_response, 'esb_response'),
    esbRequest: toTextOrNull(row.esb_request, 'esb_request'),
    esbAcceptedAt: toDateOrNull(row.esb_accepted_at, 'esb_accepted_at'),
    // SQLite stores 0/1, PostgreSQL a boolean; rows from before migration 4 have neither.
    possibleDuplicate: row.possible_duplicate === true || row.possible_duplicate === 1,
    createdAt: toDate(row.created_at, 'created_at'),
    updatedAt: toDate(row.updated_at, 'updated_at')
  }
}

export function toAttempt(row: Row): Attempt {
  return {
    deliveryId: toNumber(row.delivery_id, 'delivery_id'),
    n: toNumber(row.n, 'n'),
    step: toText(row.step, 'step') as Attempt['step'],
    outcome: toText(row.outcome, 'outcome'),
    detail: toTextOrNull(row.detail, 'detail'),
    startedAt: toDate(row.started_at, 'started_at'),
    finishedAt: toDate(row.finished_at, 'finished_at')
  }
}

export function toEsbGate(row: Row): EsbGate {
  const ids: unknown = typeof row.record_failures === 'string' ? JSON.parse(row.record_failures) : row.record_failures
  return {
    state: toText(row.state, 'state') as EsbGateState,
    since: toDateOrNull(row.since, 'since'),
    cause: toTextOrNull(row.cause, 'cause') as EsbPauseCause | null,
    lastError: toTextOrNull(row.last_error, 'last_error'),
    endpointFailures: toNumber(row.endpoint_failures, 'endpoint_failures'),
    recordFailures: Array.isArray(ids) ? ids.map((id) => toNumber(id, 'record_failures')) : [],
    probeAt: toDateOrNull(row.probe_at, 'probe_at'),
    updatedAt: toDateOrNull(row.updated_at, 'updated_at')
  }
}

/** Claimed rows come back from UPDATE … RETURNING in no particular order. */
export function byDueThenActivity(a: Delivery, b: Delivery): number {
  return (
    a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || a.atdActivityId - b.atdActivityId || a.id - b.id
  )
}

function toJsonObject(v: unknown, column: string): Record<string, unknown> {
  const parsed: unknown = typeof v === 'string' ? JSON.parse(v) : v
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`ledger column ${column} is not a JSON object`)
  return parsed as Record<string, unknown>
}

export function toAction(row: Row): Action {
  return {
    id: toNumber(row.id, 'id'),
    at: toDate(row.at, 'at'),
    operator: toText(row.operator, 'operator'),
    kind: toText(row.kind, 'kind'),
    request: toJsonObject(row.request, 'request'),
    result: toJsonObject(row.result, 'result')
  }
}

export function toPruneRun(row: Row): PruneRun {
  return {
    startedAt: toDate(row.started_at, 'started_at'),
    finishedAt: toDate(row.finished_at, 'finished_at'),
    cutoff: toDate(row.cutoff, 'cutoff'),
    deliveries: toNumber(row.deliveries, 'deliveries'),
    attempts: toNumber(row.attempts, 'attempts'),
    operator: toText(row.operator, 'operator'),
    error: toTextOrNull(row.error, 'error')
  }
}

export function toSweepRun(row: Row): SweepRun {
  return {
    app: toText(row.app, 'app'),
    trigger: toText(row.trigger, 'trigger'),
    startedAt: toDate(row.started_at, 'started_at'),
    finishedAt: toDate(row.finished_at, 'finished_at'),
    found: toNumber(row.found, 'found'),
    queued: toNumber(row.queued, 'queued'),
    duplicates: toNumber(row.duplicates, 'duplicates'),
    invalid: toNumber(row.invalid, 'invalid'),
    error: toTextOrNull(row.error, 'error')
  }
}

export function toSession(row: Row): ConsoleSession {
  return {
    id: toText(row.id, 'id'),
    operator: toText(row.operator, 'operator'),
    fingerprint: toText(row.fingerprint, 'fingerprint'),
    createdAt: toDate(row.created_at, 'created_at'),
    seenAt: toDate(row.seen_at, 'seen_at')
  }
}

/** (app, status, n) and (app, oldest) rows → one summary per app, apps in name order. */
export function toAppSummaries(counts: Row[], oldest: Row[]): AppSummary[] {
  const byApp = new Map<string, AppSummary>()
  const entry = (app: string) => {
    let s = byApp.get(app)
    if (!s) byApp.set(app, (s = { app, counts: emptyCounts(), oldestPending: null }))
    return s
  }
  for (const r of counts) entry(toText(r.app, 'app')).counts[toText(r.status, 'status') as DeliveryStatus] = toNumber(r.n, 'n')
  for (const r of oldest) entry(toText(r.app, 'app')).oldestPending = toDateOrNull(r.at, 'created_at')
  return [...byApp.values()].sort((a, b) => (a.app < b.app ? -1 : a.app > b.app ? 1 : 0))
}
