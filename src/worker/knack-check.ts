// Fetch before send (WEBHOOK_VERIFY): a webhook body is a hint, not the record. Anyone holding
// the webhook token could post any text, and a Flow retried late posts stale content, so before a
// delivery that came in as a body is sent, the record is read through the app's view (the same
// per-app limiter as every other Knack call) and what Knack holds now is what is validated and sent.
// Once read, the delivery holds Knack's record (origin 'knack'): a retry or a restart reads nothing again.
import type { KnackClient, KnackRecord } from '../clients/knack/types.js'
import type { AppConfig } from '../config/types.js'
import { isKnackFailure } from '../errors.js'
import { deliveryKeys, readText } from '../intake/keys.js'
import { FINAL_STATUSES, type Delivery, type Ledger } from '../ledger/types.js'

export type KnackCheck =
  /** Knack holds it, ready: send this delivery (its record and content are now Knack's). */
  | { kind: 'send'; delivery: Delivery }
  /** Ends the delivery without sending; `markKnack`: whether a failed status may be PUT. */
  | { kind: 'dead'; outcome: string; reason: string; markKnack: boolean }
  /** Nothing to send and nothing to PUT: the delivery ends skipped. */
  | { kind: 'skipped'; outcome: string; reason: string }
  /** Knack could not be read just now: try again like other Knack trouble. */
  | { kind: 'retry'; outcome: string; reason: string }
  /** The lease was taken over meanwhile: the new owner carries on. */
  | { kind: 'lost' }

export interface KnackCheckDeps {
  ledger: Ledger
  knack: KnackClient
  clock: () => Date
}

/** Whether the delivery still has to be read back from Knack before it is sent. */
export function needsKnackCheck(d: Delivery, webhookVerify: boolean): boolean {
  return webhookVerify && d.recordOrigin === 'body' && d.esbAcceptedAt === null
}

export async function checkWithKnack(deps: KnackCheckDeps, app: AppConfig, d: Delivery): Promise<KnackCheck> {
  let record: KnackRecord
  try {
    record = await deps.knack.readRecord(app, d.recordId)
  } catch (err) {
    if (!isKnackFailure(err)) throw err
    if (err.status === 404) {
      return { kind: 'dead', outcome: 'not_found', markKnack: false, reason: `record ${d.recordId} not found in Knack: the webhook body was not sent` }
    }
    const reason = `Knack read before send: ${err.message}`
    return err.retryable ? { kind: 'retry', outcome: 'failed', reason } : { kind: 'dead', outcome: 'failed', markKnack: true, reason }
  }
  const status = readText(app, record, 'esb_status')
  if (status !== app.statuses.ready) {
    // Someone changed it in Knack after the Flow fired (sent by a sweep, put on hold, ...): not
    // ours to send, and not ours to overwrite either — no PUT.
    return { kind: 'skipped', outcome: 'not_ready', reason: `no longer ready in Knack (esb_status now ${JSON.stringify(status ?? null)}): not sent` }
  }
  const adopted = await deps.ledger.adoptKnackRecord(d.id, { owner: d.leaseOwner, record, ...deliveryKeys(app, record), now: deps.clock() })
  if (adopted.kind === 'lost') return adopted
  if (adopted.kind === 'duplicate') {
    const of = adopted.of
    const state = FINAL_STATUSES.includes(of.status) ? `already ${of.status}` : `queued (${of.status})`
    return { kind: 'skipped', outcome: 'duplicate', reason: `duplicate of delivery ${of.id} (${of.source}, ${state}): Knack holds the same content, sent once` }
  }
  return { kind: 'send', delivery: adopted.delivery }
}
