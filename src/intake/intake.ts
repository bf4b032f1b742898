// The one door into the ledger, shared by webhook, resend and sweep: validate, write the
// delivery (on disk before anyone is told "queued"), wake the worker.
import type { KnackClient, KnackRecord } from '../clients/knack/types.js'
import { RecordInvalid, withDetails } from '../errors.js'
import type { Delivery, DeliverySource, EnqueueMode, Ledger, RecordOrigin } from '../ledger/types.js'
import { parseActivity } from '../message/activity.js'
import type { AppConfig } from '../config/types.js'
import { deliveryKeys, readText } from './keys.js'

export type IntakeOutcome =
  | { status: 'queued' | 'duplicate'; delivery: Delivery; /** false: queued only to end dead with its reason */ valid: boolean }
  | { status: 'ignored'; reason: string }

export interface IntakeDeps {
  ledger: Ledger
  knack: KnackClient
  clock: () => Date
  wake: () => void
}

export interface Intake {
  /** Webhook: a ready record is queued once per content; anything else is ignored. */
  webhook(app: AppConfig, body: KnackRecord): Promise<IntakeOutcome>
  /** Sweep: the record came from the ready filter. An invalid one is still queued, so that it
   *  ends `dead` with its reason in /deliveries instead of vanishing. */
  swept(app: AppConfig, record: KnackRecord): Promise<IntakeOutcome>
  /** Resend: read the record now and send it whatever its status. */
  resend(app: AppConfig, recordId: string): Promise<IntakeOutcome>
  /** Replay: the record as Knack holds it now, sent again for the delivery `sourceId` — at most
   *  once per source delivery. Queued even when invalid now, to end dead with its reason. */
  replayed(app: AppConfig, record: KnackRecord, sourceId: number): Promise<IntakeOutcome>
}

export function createIntake(deps: IntakeDeps): Intake {
  async function enqueue(app: AppConfig, record: KnackRecord, source: DeliverySource, mode: EnqueueMode, strict: boolean, recordOrigin: RecordOrigin = 'knack') {
    const parsed = parseActivity(app, record)
    if (!parsed.ok && strict) {
      const summary = parsed.problems.map((p) => `${p.field} ${p.message}`).join('; ')
      throw withDetails(new RecordInvalid(`Record ${record.id} is not valid: ${summary}`), parsed.problems)
    }
    const result = await deps.ledger.enqueue(
      { app: app.name, recordId: record.id, source, record, recordOrigin, ...deliveryKeys(app, record, parsed) },
      mode,
      deps.clock()
    )
    if (result.created) deps.wake()
    return { status: result.created ? 'queued' : 'duplicate', delivery: result.delivery, valid: parsed.ok } as const
  }

  return {
    async webhook(app, body) {
      // A full body is a hint: it is queued at once, and the worker reads the record back from
      // Knack before sending (WEBHOOK_VERIFY). {"id"} is read here, so it is Knack's already.
      const idOnly = isIdOnly(body)
      const record = idOnly ? await deps.knack.readRecord(app, body.id) : body
      const status = readText(app, record, 'esb_status')
      if (status !== app.statuses.ready) {
        return { status: 'ignored', reason: `esb_status is ${JSON.stringify(status ?? null)}, not ${app.statuses.ready}` }
      }
      return enqueue(app, record, 'webhook', 'once', true, idOnly ? 'knack' : 'body')
    },
    swept(app, record) {
      return enqueue(app, record, 'sweep', 'once', false)
    },
    async resend(app, recordId) {
      const record = await deps.knack.readRecord(app, recordId)
      return enqueue(app, record, 'resend', 'resend', true)
    },
    replayed(app, record, sourceId) {
      return enqueue(app, record, 'replay', { replayOf: sourceId }, false)
    }
  }
}

/** `{"id": "…"}` alone: the record must be read from the app's view. */
function isIdOnly(body: KnackRecord): boolean {
  return Object.keys(body).length === 1
}
