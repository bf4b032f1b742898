// SQL the SQLite and PostgreSQL ledgers share word for word (both dialects accept it). The
// migrations keep their own literal copy: an applied migration must never change.
import { PENDING_STATUSES, type ClaimScope } from './types.js'

/** `('queued', 'sending', 'esb_accepted', 'failed')` */
export const PENDING = `(${PENDING_STATUSES.map((s) => `'${s}'`).join(', ')})`

/** An earlier pending delivery of the same SR exists (earlier = lower atd_activity_id, then id). */
export const HAS_EARLIER_PENDING = `EXISTS (SELECT 1 FROM deliveries e
  WHERE e.app = d.app AND e.sr_number = d.sr_number AND e.status IN ${PENDING}
    AND (e.atd_activity_id < d.atd_activity_id OR (e.atd_activity_id = d.atd_activity_id AND e.id < d.id)))`

/** Another delivery of the same SR holds a live lease (is being worked on) at `now` (a bind
 *  parameter in the store's syntax). An expired lease does not block: its owner is presumed
 *  dead, and blocking on it could stall the SR for good. */
export const srBusy = (now: string) => `EXISTS (SELECT 1 FROM deliveries b
  WHERE b.app = d.app AND b.sr_number = d.sr_number AND b.status IN ${PENDING}
    AND b.id <> d.id AND b.lease_until > ${now})`

/** How many of the earliest-due pending rows a claim looks at first (each store's CLAIM_IN_WINDOW):
 *  the heads among them, when there are enough, are the claim's answer without visiting every SR. */
export const CLAIM_WINDOW = 64

/** What each claim scope adds to a claim's WHERE: Knack work only (esb_accepted heads), ESB work
 *  only (the others), or everything. */
export const CLAIM_SCOPES: Record<ClaimScope, string> = {
  all: '',
  knack: `\n    AND d.status = 'esb_accepted'`,
  esb: `\n    AND d.status <> 'esb_accepted'`
}

/** One statement per claim scope, from a statement written for any scope. */
export function perScope<T>(make: (scope: string) => T): Record<ClaimScope, T> {
  return { all: make(CLAIM_SCOPES.all), knack: make(CLAIM_SCOPES.knack), esb: make(CLAIM_SCOPES.esb) }
}
