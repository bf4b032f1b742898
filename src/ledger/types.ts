// The durable delivery ledger. SQLite and PostgreSQL implement the same interface; the rest of
// the service knows nothing of SQL.
import type { RateSlots } from '../clients/knack/rate-slots.js'
import type { KnackRecord } from '../clients/knack/types.js'
import type { AlertStore } from './alert-types.js'
import type { DeliveryFilter, DeliveryPage, LifecycleStore } from './lifecycle-types.js'

export const DELIVERY_STATUSES = ['queued', 'sending', 'esb_accepted', 'sent', 'skipped', 'failed', 'dead'] as const
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number]
/** Still owed work: these block later activities of the same service request. */
export const PENDING_STATUSES: readonly DeliveryStatus[] = ['queued', 'sending', 'esb_accepted', 'failed']
export const FINAL_STATUSES: readonly DeliveryStatus[] = ['sent', 'skipped', 'dead']

export const DELIVERY_SOURCES = ['webhook', 'resend', 'sweep', 'retry', 'replay'] as const
export type DeliverySource = (typeof DELIVERY_SOURCES)[number]

/** Where a delivery's record came from: 'body' — a webhook body as posted, not yet read back from
 *  Knack (WEBHOOK_VERIFY reads it before anything is sent); 'knack' — read from Knack ({"id"}
 *  webhooks, sweeps, resends, replays, and a body once it was replaced by what Knack holds). */
export const RECORD_ORIGINS = ['body', 'knack'] as const
export type RecordOrigin = (typeof RECORD_ORIGINS)[number]

/** What intake knows when it writes a delivery. */
export interface NewDelivery {
  app: string
  recordId: string
  srNumber: string
  atdActivityId: number
  /** sha256 of the validated activity content (status excluded). */
  contentHash: string
  source: DeliverySource
  /** The Knack record as received; the message is built from it at send time. */
  record: KnackRecord
  /** Default 'knack'. */
  recordOrigin?: RecordOrigin | undefined
}

export interface Delivery extends NewDelivery {
  id: number
  recordOrigin: RecordOrigin
  status: DeliveryStatus
  attempts: number
  nextAttemptAt: Date
  leaseUntil: Date | null
  /** The worker holding the lease (null when none does). */
  leaseOwner: string | null
  lastError: string | null
  /** The ESB's answer body when it accepted (trimmed). */
  esbResponse: string | null
  /** The message the ESB accepted, exactly as sent (null until it accepted one). */
  esbRequest: string | null
  /** Set once the ESB accepted: from then on only the Knack update is retried. */
  esbAcceptedAt: Date | null
  /** An attempt timed out after the message was sent, and a later one was accepted: the ESB may hold it twice. */
  possibleDuplicate: boolean
  createdAt: Date
  updatedAt: Date
}

export interface Attempt {
  deliveryId: number
  n: number
  step: 'esb' | 'knack' | 'build'
  outcome: string
  detail: string | null
  startedAt: Date
  finishedAt: Date
}

export type EnqueueMode =
  /** webhook/sweep: any earlier delivery of the same app, record and content is returned instead. */
  | 'once'
  /** resend: only a pending delivery of the same content is returned; otherwise a new one. */
  | 'resend'
  /** replay of the delivery `replayOf`: one per source delivery, ever (a unique key), and a
   *  pending delivery of the same content is returned instead. */
  | { replayOf: number }

export interface EnqueueResult {
  delivery: Delivery
  created: boolean
}

/** Which claimable deliveries a claim hands out. While sending to the ESB is paused, only
 *  'knack' (esb_accepted rows: the Knack update is all that is left) and one 'esb' probe go out. */
export type ClaimScope = 'all' | 'knack' | 'esb'

export const ESB_GATE_STATES = ['ok', 'paused'] as const
export type EsbGateState = (typeof ESB_GATE_STATES)[number]
/** Why sending paused: the endpoint kept failing, every record got a fault, or it refused our credentials. */
export const ESB_PAUSE_CAUSES = ['endpoint', 'record', 'credentials'] as const
export type EsbPauseCause = (typeof ESB_PAUSE_CAUSES)[number]

/** Whether the ESB is taking messages: one row, shared by every process on the ledger. */
export interface EsbGate {
  state: EsbGateState
  /** When the state last changed; null until the first pause. */
  since: Date | null
  /** While paused: why. */
  cause: EsbPauseCause | null
  /** The newest failure (kept after a resume: what the pause was about). */
  lastError: string | null
  /** Consecutive endpoint failures since the last success, across deliveries and processes. */
  endpointFailures: number
  /** Distinct deliveries answered about the record since the last success (ids, oldest first). */
  recordFailures: number[]
  /** While paused: when the next probe may be handed out (the shared probe slot). */
  probeAt: Date | null
  updatedAt: Date | null
}

/** GET /deliveries: every filter, newest first, a page at a time. */
export type ListFilter = DeliveryFilter & DeliveryPage

export interface Ledger extends LifecycleStore {
  /** The alerts outbox, in the same database (alert-types.ts). */
  readonly alerts: AlertStore
  /** The Knack rate slots shared by every process on the store (migration 6): PostgreSQL only.
   *  Absent on SQLite, whose one process keeps its limiter in memory. */
  readonly rateSlots?: RateSlots | undefined
  /** Idempotent insert, atomic across processes: a 'created' result is on disk when it resolves. */
  enqueue(input: NewDelivery, mode: EnqueueMode, now: Date): Promise<EnqueueResult>
  /** Take up to `limit` due deliveries, at most one per (app, sr_number) and only the earliest
   *  pending one of each, and lease them to `owner` until now+leaseMs. Claimable: queued/failed/
   *  esb_accepted with next_attempt_at <= now and no live lease, and sending with an expired lease.
   *  A queued/failed/sending row becomes 'sending'; esb_accepted stays esb_accepted. `scope`
   *  (default 'all') narrows the heads handed out to esb_accepted ones ('knack') or the others ('esb'). */
  claim(owner: string, limit: number, leaseMs: number, now: Date, scope?: ClaimScope): Promise<Delivery[]>
  /** Release every lease held by owners other than `owner` (single-process stores after a crash). */
  releaseForeignLeases(owner: string): Promise<number>
  /** Record the ESB's yes, and the attempt that got it, before Knack is touched. False when
   *  `owner` no longer holds the lease: then the row's status is left to the new owner, but the
   *  attempt is recorded and the delivery marked a possible duplicate (the ESB has the message,
   *  and the new owner may send it again). Throws DELIVERY_NOT_FOUND for an unknown id. */
  markEsbAccepted(id: number, accept: EsbAcceptUpdate): Promise<boolean>
  /** Final or waiting state after an attempt, and the attempt's row, in one transaction; clears
   *  the lease. False (and nothing written) when `owner` no longer holds the lease: a worker whose
   *  lease was taken over cannot overwrite the new owner's result. Throws DELIVERY_NOT_FOUND for an
   *  unknown id. */
  finish(id: number, update: FinishUpdate): Promise<boolean>
  /** Replace a delivery's record and content with what Knack holds (fetch before send), for the
   *  lease holder only: its origin becomes 'knack', so it is not read again. When another delivery
   *  of the same app and record already has that content, nothing changes and that delivery is
   *  returned instead: the content is sent once. Serialised with enqueue of the same record, so a
   *  sweep queuing the same content at the same moment meets one or the other, never neither. */
  adoptKnackRecord(id: number, update: KnackRecordUpdate): Promise<AdoptResult>
  get(id: number): Promise<Delivery | undefined>
  attempts(id: number): Promise<Attempt[]>
  /** Put a failed/dead delivery back in the queue now; false when it is in another status. */
  requeue(id: number, now: Date): Promise<boolean>
  countByStatus(): Promise<Record<DeliveryStatus, number>>
  /** Oldest createdAt among pending deliveries, or null. */
  oldestPending(): Promise<Date | null>
  /** Earliest next_attempt_at among claimable rows (for the worker's sleep), or null. */
  nextDueAt(): Promise<Date | null>
  /** The ESB gate row. */
  esbGate(): Promise<EsbGate>
  /** Read-modify-write of the gate row under the store's write lock (a row lock on PostgreSQL),
   *  so each change sees every other process's: `change` returns the new gate, or null to leave it
   *  as it is. Resolves with the gate before and after. */
  updateEsbGate(change: (current: EsbGate) => EsbGate | null): Promise<{ before: EsbGate; after: EsbGate }>
  ping(): Promise<void>
  close(): Promise<void>

  // --- The console's overview and sessions (migration 9) ---
  /** Per app that has deliveries: counts by status and the oldest pending delivery's createdAt. */
  appSummaries(): Promise<AppSummary[]>
  /** Remember how an app's latest sweep went (whatever started it: route, console, schedule, CLI). */
  recordSweep(run: SweepRun): Promise<void>
  /** The latest sweep of each app that has been swept. */
  lastSweeps(): Promise<SweepRun[]>
  /** Store a new console session; sessions past `limits` are deleted in the same write. */
  createSession(session: ConsoleSession, limits: SessionLimits): Promise<void>
  /** The live session with this id, or undefined (unknown, idle too long, or too old). Its seenAt
   *  moves to `now` when it is more than `limits.touchAfterMs` behind. */
  session(id: string, now: Date, limits: SessionLimits): Promise<ConsoleSession | undefined>
  deleteSession(id: string): Promise<void>
}

export interface AppSummary {
  app: string
  counts: Record<DeliveryStatus, number>
  /** createdAt of the oldest delivery still owed work (PENDING_STATUSES), or null. */
  oldestPending: Date | null
}

export interface SweepRun {
  app: string
  /** What started it: http, console, schedule, nightly, cli. */
  trigger: string
  startedAt: Date
  finishedAt: Date
  found: number
  queued: number
  duplicates: number
  invalid: number
  /** Why the sweep stopped early (Knack could not be read), or null when it read every page. */
  error: string | null
}

/** A console login. The cookie holds a random token; the store holds only its hash. */
export interface ConsoleSession {
  /** sha256 of the cookie's token, hex. */
  id: string
  operator: string
  /** HMAC of the operator's token at login: a changed or removed token ends the session. */
  fingerprint: string
  createdAt: Date
  seenAt: Date
}

export interface SessionLimits {
  /** A session unused this long is over. */
  idleMs: number
  /** A session this old is over, however busy. */
  maxAgeMs: number
  /** seenAt is written at most this often (a page view is not a write each time). */
  touchAfterMs: number
}

/** One step of an attempt as the worker saw it; the ledger adds the delivery id. */
export type AttemptRecord = Omit<Attempt, 'deliveryId'>

export interface EsbAcceptUpdate {
  /** The lease holder writing: the worker's owner name (null for a row nobody holds). */
  owner: string | null
  esbResponse: string
  /** The XML that was sent and accepted. */
  esbRequest?: string | undefined
  now: Date
  attempt?: AttemptRecord | undefined
  /** An earlier attempt of this delivery may have reached the ESB too (it timed out after sending). */
  possibleDuplicate?: boolean | undefined
}

export interface KnackRecordUpdate {
  /** The lease holder writing. */
  owner: string | null
  record: KnackRecord
  srNumber: string
  atdActivityId: number
  contentHash: string
  now: Date
}

export type AdoptResult =
  | { kind: 'adopted'; delivery: Delivery }
  /** Another delivery of this record already has Knack's content (e.g. a sweep queued it). */
  | { kind: 'duplicate'; of: Delivery }
  /** `owner` no longer holds the lease: nothing was written. */
  | { kind: 'lost' }

export interface FinishUpdate {
  /** The lease holder writing: the worker's owner name (null for a row nobody holds). */
  owner: string | null
  /** The attempt step that led to this state, written in the same transaction. */
  attempt?: AttemptRecord | undefined
  status: DeliveryStatus
  attempts: number
  nextAttemptAt?: Date | undefined
  lastError?: string | null | undefined
  now: Date
}
