// The one door into the ledger, shared by webhook, resend and sweep: validate, write the
// delivery (on disk before anyone is told "queued"), wake the worker.
import { createHash } from 'node:crypto'
import type { KnackClient, KnackRecord } from '../clients/knack/types.js'
import { RecordInvalid, withDetails } from '../errors.js'
import type { Delivery, DeliverySource, EnqueueMode, Ledger } from '../ledger/types.js'
import { contentHash, parseActivity } from '../message/activity.js'
import { fieldValue, isPlainObject } from '../message/record.js'
import type { AppConfig, FieldVariable } from '../config/types.js'

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
  async function enqueue(app: AppConfig, record: KnackRecord, source: DeliverySource, mode: EnqueueMode, strict: boolean) {
    const parsed = parseActivity(app, record)
    if (!parsed.ok && strict) {
      const summary = parsed.problems.map((p) => `${p.field} ${p.message}`).join('; ')
      throw withDetails(new RecordInvalid(`Record ${record.id} is not valid: ${summary}`), parsed.problems)
    }
    const input = parsed.ok
      ? {
          srNumber: parsed.activity.srNumber,
          atdActivityId: parsed.activity.atdActivityId,
          contentHash: contentHash(parsed.activity)
        }
      : {
          srNumber: readText(app, record, 'sr_number') ?? '',
          atdActivityId: Number(readText(app, record, 'atd_activity_id')) || 0,
          contentHash: createHash('sha256').update(JSON.stringify(record)).digest('hex')
        }
    const result = await deps.ledger.enqueue(
      { app: app.name, recordId: record.id, source, record, ...input },
      mode,
      deps.clock()
    )
    if (result.created) deps.wake()
    return { status: result.created ? 'queued' : 'duplicate', delivery: result.delivery, valid: parsed.ok } as const
  }

  return {
    async webhook(app, body) {
      const record = isIdOnly(body) ? await deps.knack.readRecord(app, body.id) : body
      const status = readText(app, record, 'esb_status')
      if (status !== app.statuses.ready) {
        return { status: 'ignored', reason: `esb_status is ${JSON.stringify(status ?? null)}, not ${app.statuses.ready}` }
      }
      return enqueue(app, record, 'webhook', 'once', true)
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

/** A field's plain value as text (numbers too), or null. */
function readText(app: AppConfig, record: KnackRecord, variable: FieldVariable): string | null {
  const value = isPlainObject(record) ? fieldValue(record, app.fields[variable]) : undefined
  return typeof value === 'string' || typeof value === 'number' ? String(value).trim() : null
}

/** `{"id": "…"}` alone: the record must be read from the app's view. */
function isIdOnly(body: KnackRecord): boolean {
  return Object.keys(body).length === 1
}
