// What the ledger keys a delivery on, from a Knack record: its service request, its activity id
// (the order within the SR) and its content hash (the once-per-content rule). Shared by intake
// and by the worker's fetch before send, which re-keys a webhook body on what Knack holds.
import { createHash } from 'node:crypto'
import type { KnackRecord } from '../clients/knack/types.js'
import type { AppConfig, FieldVariable } from '../config/types.js'
import { contentHash, parseActivity, type ParsedActivity } from '../message/activity.js'
import { fieldValue, isPlainObject } from '../message/record.js'

export interface DeliveryKeys {
  srNumber: string
  atdActivityId: number
  contentHash: string
}

export function deliveryKeys(app: AppConfig, record: KnackRecord, parsed: ParsedActivity = parseActivity(app, record)): DeliveryKeys {
  if (parsed.ok) {
    return { srNumber: parsed.activity.srNumber, atdActivityId: parsed.activity.atdActivityId, contentHash: contentHash(parsed.activity) }
  }
  // Invalid: still keyed, so it can end dead with its reason (and a second copy finds the first).
  return {
    srNumber: readText(app, record, 'sr_number') ?? '',
    atdActivityId: Number(readText(app, record, 'atd_activity_id')) || 0,
    contentHash: createHash('sha256').update(JSON.stringify(record)).digest('hex')
  }
}

/** A field's plain value as text (numbers too), or null. */
export function readText(app: AppConfig, record: KnackRecord, variable: FieldVariable): string | null {
  const value = isPlainObject(record) ? fieldValue(record, app.fields[variable]) : undefined
  return typeof value === 'string' || typeof value === 'number' ? String(value).trim() : null
}
