// What the ledger offers for its life over months: finding any delivery, bulk retry, replay
// sources, pruning, and the log of who did what. Both stores implement it (sqlite-lifecycle.ts,
// postgres-lifecycle.ts); the services in src/operations/ are its only callers besides tests.
import type { Delivery, DeliveryStatus } from './types.js'

/** Every field optional; all given ones must hold. */
export interface DeliveryFilter {
  app?: string | undefined
  /** One status, or several (bulk retry asks for failed and dead). */
  status?: DeliveryStatus | readonly DeliveryStatus[] | undefined
  srNumber?: string | undefined
  recordId?: string | undefined
  /** created_at >= since */
  since?: Date | undefined
  /** created_at < until */
  until?: Date | undefined
  /** Case-insensitive text in last_error. */
  q?: string | undefined
}

/** A page of deliveries, newest first: created_at, then id, both descending. */
export interface DeliveryPage {
  limit: number
  /** The id to page from: rows after it in the order above. */
  before?: number | undefined
}

/** Where a batch of bulk retry stopped: the last row, in per-SR order. */
export interface SrCursor {
  app: string
  srNumber: string
  atdActivityId: number
  id: number
}

export interface RequeueBatch {
  /** The deliveries put back in the queue by this batch. */
  requeued: number[]
  /** Where the next batch starts; null once there is nothing more. */
  next: SrCursor | null
}

/** Deliveries the ESB accepted in a window: the sources of a replay. */
export interface AcceptedWindow {
  app: string
  /** esb_accepted_at >= since */
  since: Date
  /** esb_accepted_at < until */
  until: Date
  srNumber?: string | undefined
}

export interface AcceptedCursor {
  esbAcceptedAt: Date
  id: number
}

/** What retention deletes; every other status is kept whatever its age. */
export const PRUNABLE_STATUSES = ['sent', 'skipped'] as const
export type PrunableStatus = (typeof PRUNABLE_STATUSES)[number]

export interface PruneBatch {
  deliveries: number
  attempts: number
}

/** The last prune, kept for metrics and the console. */
export interface PruneRun {
  startedAt: Date
  finishedAt: Date
  /** Rows created before this were eligible. */
  cutoff: Date
  deliveries: number
  attempts: number
  operator: string
  /** Why it stopped early, or null. */
  error: string | null
}

export interface NewAction {
  at: Date
  /** "admin", an OPERATOR_TOKENS name, "cli:<user>" or "(system)". */
  operator: string
  kind: string
  /** What was asked, as it was asked. */
  request: Record<string, unknown>
  /** What it did (or the error that stopped it). */
  result: Record<string, unknown>
}

export interface Action extends NewAction {
  id: number
}

export interface LifecycleStore {
  /** Matching rows, newest first (created_at, id). */
  list(filter: DeliveryFilter & DeliveryPage): Promise<Delivery[]>
  count(filter: DeliveryFilter): Promise<number>
  /** Counts by status of the given deliveries (a CLI watching its own deliveries). */
  statusesOf(ids: readonly number[]): Promise<Partial<Record<DeliveryStatus, number>>>
  /** One short transaction: the next `limit` failed/dead rows matching `filter` after `after`,
   *  in per-SR order (app, sr_number, atd_activity_id, id), put back in the queue. */
  requeueMatching(filter: DeliveryFilter, after: SrCursor | null, limit: number, now: Date): Promise<RequeueBatch>
  /** Deliveries of an app whose ESB yes falls in the window, in (esb_accepted_at, id) order. */
  acceptedIn(window: AcceptedWindow, after: AcceptedCursor | null, limit: number): Promise<Delivery[]>
  /** sent/skipped rows created before `cutoff`. */
  countPrunable(cutoff: Date): Promise<number>
  /** One short transaction: delete up to `limit` of the oldest rows in `status` created before
   *  `cutoff`, and their attempts. One status at a time, so the rows come off one index range in order. */
  pruneBatch(status: PrunableStatus, cutoff: Date, limit: number): Promise<PruneBatch>
  /** Give free pages back to the file system, at most `maxPages` (SQLite with incremental
   *  auto-vacuum); 0 where the store reclaims space itself (PostgreSQL's autovacuum). */
  reclaimSpace(maxPages: number): Promise<number>
  /** SQLite: switch an existing file to incremental auto-vacuum (a full VACUUM, once). */
  enableIncrementalVacuum(): Promise<'converted' | 'already' | 'not_applicable'>
  recordPrune(run: PruneRun): Promise<void>
  lastPrune(): Promise<PruneRun | null>
  addAction(action: NewAction): Promise<Action>
  /** Newest first; `before` is the id to page from. */
  listActions(page: { limit: number; before?: number | undefined }): Promise<Action[]>
}
