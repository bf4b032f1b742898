import type { AppConfig } from '../../config/types.js'

/** A record as Knack's API returns it: `id`, `field_N` (formatted) and `field_N_raw`. */
export type KnackRecord = { id: string } & Record<string, unknown>

export interface KnackField {
  key: string
  name: string
  type: string
}

/** Outbound Knack API. Implementations rate-limit per app and retry 429/5xx themselves. */
export interface KnackClient {
  /** Every record in the app's view whose status is `ready` and emi is not blank, sorted by
   *  atd_activity_id ascending; pages are fetched lazily as the caller iterates. */
  readyRecords(app: AppConfig): AsyncIterable<KnackRecord>
  /** One record through the app's view (so connected fields are present). */
  readRecord(app: AppConfig, id: string): Promise<KnackRecord>
  /** PUT the record's esb_status through the object. */
  updateStatus(app: AppConfig, id: string, status: string): Promise<void>
  listFields(app: AppConfig): Promise<KnackField[]>
  close(): Promise<void>
}
