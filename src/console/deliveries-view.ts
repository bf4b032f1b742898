// Deliveries and their attempts as the console shows them.
import type { AppConfig } from '../config/types.js'
import type { Attempt, Delivery, DeliveryStatus } from '../ledger/types.js'
import { planRecord } from '../message/preview.js'
import { RETRYABLE } from '../operations/retry.js'
import { STATUS_MEANING, durationText, indentXml, prettyJson, sentence, shortText, timeView, type TimeView } from './format.js'
import type { ConsolePaths } from './paths.js'

export interface DeliveryRow {
  id: number
  href: string
  app: string
  recordId: string
  srNumber: string
  atdActivityId: number
  status: DeliveryStatus
  meaning: string
  source: string
  attempts: number
  lastError: string
  possibleDuplicate: boolean
  created: TimeView | null
  updated: TimeView | null
}

export function deliveryRow(d: Delivery, paths: ConsolePaths, now: Date, zone: string): DeliveryRow {
  return {
    id: d.id,
    href: paths.to(`/deliveries/${d.id}`),
    app: d.app,
    recordId: d.recordId,
    srNumber: d.srNumber,
    atdActivityId: d.atdActivityId,
    status: d.status,
    meaning: STATUS_MEANING[d.status],
    source: d.source,
    attempts: d.attempts,
    lastError: shortText(d.lastError),
    possibleDuplicate: d.possibleDuplicate,
    created: timeView(d.createdAt, now, zone),
    updated: timeView(d.updatedAt, now, zone)
  }
}

export interface AttemptRow {
  n: number
  step: string
  outcome: string
  detail: string
  started: TimeView | null
  took: string
}

/** The message this delivery sends: the XML, or why none is sent. */
export type MessageView =
  | { kind: 'xml'; xml: string; note: string }
  | { kind: 'none'; reason: string }

export interface DeliveryDetail extends DeliveryRow {
  lastErrorFull: string | null
  /** The status's meaning as a sentence, under the heading. */
  lead: string
  esbResponse: string | null
  esbAccepted: TimeView | null
  nextAttempt: TimeView | null
  contentHash: string
  record: string
  message: MessageView
  history: AttemptRow[]
  retryable: boolean
  /** Where the resend form posts: read the record from Knack again and send it. */
  resendAction: string
  retryAction: string
  /** Still moving: a reload shows more. */
  inFlight: boolean
}

export function deliveryDetail(
  d: Delivery,
  attempts: Attempt[],
  app: AppConfig | undefined,
  paths: ConsolePaths,
  now: Date,
  zone: string
): DeliveryDetail {
  const row = deliveryRow(d, paths, now, zone)
  return {
    ...row,
    lastErrorFull: d.lastError,
    esbResponse: d.esbResponse === null ? null : indentXml(d.esbResponse),
    lead: sentence(STATUS_MEANING[d.status]),
    esbAccepted: timeView(d.esbAcceptedAt, now, zone),
    nextAttempt: d.status === 'failed' || d.status === 'queued' || d.status === 'esb_accepted' ? timeView(d.nextAttemptAt, now, zone) : null,
    contentHash: d.contentHash,
    record: prettyJson(d.record),
    message: messageView(d, app, now),
    history: attempts.map((a) => ({
      n: a.n,
      step: a.step,
      outcome: a.outcome,
      detail: a.detail ?? '',
      started: timeView(a.startedAt, now, zone),
      took: durationText(a.finishedAt.getTime() - a.startedAt.getTime())
    })),
    retryable: RETRYABLE.includes(d.status),
    resendAction: paths.to(`/apps/${encodeURIComponent(d.app)}/records/${encodeURIComponent(d.recordId)}/resend`),
    retryAction: paths.to(`/deliveries/${d.id}/retry`),
    inFlight: d.status === 'queued' || d.status === 'sending' || d.status === 'esb_accepted'
  }
}

/** The ledger keeps the record as received, not the XML: the message is built from that record
 *  when it is sent. So this is that same build, stamped now; only the header's timestamp differs
 *  from what the ESB got. */
function messageView(d: Delivery, app: AppConfig | undefined, now: Date): MessageView {
  if (!app) return { kind: 'none', reason: `app "${d.app}" is not configured` }
  if (d.esbRequest !== null) {
    return { kind: 'xml', xml: indentXml(d.esbRequest), note: 'The message the ESB accepted, as it was sent. Indented for reading.' }
  }
  const plan = planRecord(app, d.record, now)
  const sent = d.esbAcceptedAt !== null
  switch (plan.kind) {
    case 'send':
      return {
        kind: 'xml',
        xml: indentXml(plan.xml),
        note: sent
          ? 'Accepted before the ledger kept messages: rebuilt from the record as received; only the header timestamp (the time of sending) differs. Indented for reading.'
          : 'What would be sent: built from the record as received, timestamped now. Indented for reading.'
      }
    case 'skip':
      return { kind: 'none', reason: plan.reason }
    case 'invalid':
      return { kind: 'none', reason: `the record is not valid: ${plan.summary}` }
    case 'unmapped':
      return { kind: 'none', reason: plan.error.message }
  }
}
