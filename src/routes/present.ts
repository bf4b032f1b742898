// How deliveries look on the wire: snake_case, ISO times, no stored record body.
import type { Attempt, Delivery } from '../ledger/types.js'

const iso = (d: Date | null) => (d ? d.toISOString() : null)

export function deliveryJson(d: Delivery) {
  return {
    id: d.id,
    app: d.app,
    record_id: d.recordId,
    sr_number: d.srNumber,
    atd_activity_id: d.atdActivityId,
    status: d.status,
    source: d.source,
    record_origin: d.recordOrigin,
    attempts: d.attempts,
    next_attempt_at: d.status === 'failed' || d.status === 'queued' || d.status === 'esb_accepted' ? iso(d.nextAttemptAt) : null,
    last_error: d.lastError,
    esb_response: d.esbResponse,
    esb_accepted_at: iso(d.esbAcceptedAt),
    possible_duplicate: d.possibleDuplicate,
    content_hash: d.contentHash,
    created_at: iso(d.createdAt),
    updated_at: iso(d.updatedAt)
  }
}

export function attemptJson(a: Attempt) {
  return {
    n: a.n,
    step: a.step,
    outcome: a.outcome,
    detail: a.detail,
    started_at: iso(a.startedAt),
    finished_at: iso(a.finishedAt)
  }
}
