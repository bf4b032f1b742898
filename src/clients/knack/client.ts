// The Knack API client: reads through the app's view (so connected fields are present), writes
// through the object. Rate limiting, retries and errors live in transport.ts.
import type { Logger } from 'pino'
import type { AppConfig } from '../../config/types.js'
import { knackError } from '../../errors.js'
import type { KnackClient, KnackField, KnackRecord } from './types.js'
import type { KnackObserver } from './observer.js'
import { createKnackTransport, type TransportOptions } from './transport.js'

export type { KnackObserver } from './observer.js'

export interface KnackClientOptions {
  /** e.g. https://api.knack.com/v1 (or the simulator's url). */
  baseUrl: string
  /** Requests per second per Knack application id. */
  rateLimit: number
  /** Per attempt, body included. Default 30 s. */
  timeoutMs?: number
  logger?: Logger
  observe?: KnackObserver
  /** Retries after a 5xx, 408, network error or timeout. Default 3. */
  maxRetries?: number
  /** How much later one request can reach Knack than another written at the same moment (KNACK_ARRIVAL_SPREAD). Default 20 ms. */
  arrivalSpreadMs?: number
  /** Each app's rate limiter; default in-process (see TransportOptions.limiterFor). */
  limiterFor?: TransportOptions['limiterFor']
}

/** Knack's largest page. */
const ROWS_PER_PAGE = 1000
/** No real view holds 10 million records: a longer walk means something is looping. */
const MAX_PAGES = 10_000
const MAX_RATE_LIMIT_WAITS = 20

const seg = encodeURIComponent

export function createKnackClient(opts: KnackClientOptions): KnackClient {
  const transport = createKnackTransport({
    baseUrl: opts.baseUrl,
    rateLimit: opts.rateLimit,
    timeoutMs: opts.timeoutMs ?? 30_000,
    maxRetries: opts.maxRetries ?? 3,
    maxRateLimitWaits: MAX_RATE_LIMIT_WAITS,
    logger: opts.logger,
    observe: opts.observe,
    arrivalSpreadMs: opts.arrivalSpreadMs,
    limiterFor: opts.limiterFor
  })

  const viewPath = (app: AppConfig): string => `/pages/${seg(app.scene)}/views/${seg(app.view)}/records`

  async function* readyRecords(app: AppConfig): AsyncGenerator<KnackRecord, void, undefined> {
    const ready = [
      { field: app.fields.esb_status, operator: 'is', value: app.statuses.ready },
      { field: app.fields.emi_id, operator: 'is not blank' }
    ]
    const path = viewPath(app)
    // Keyset paging: each page asks for atd_activity_id above the last one seen. Records the
    // worker marks SENT meanwhile leave the filter, which would shift numbered pages forward and
    // skip records; the keyset does not move. Page numbers are the fallback when the last record
    // has no numeric atd_activity_id.
    let after: number | undefined
    let page = 1
    for (let i = 0; i < MAX_PAGES; i++) {
      const rules = after === undefined ? ready : [...ready, { field: app.fields.atd_activity_id, operator: 'higher than', value: after }]
      const body = await transport.send({
        credentials: app.credentials,
        method: 'GET',
        route: '/pages/:scene/views/:view/records',
        path,
        query: {
          filters: JSON.stringify({ match: 'and', rules }),
          sort_field: app.fields.atd_activity_id,
          sort_order: 'asc',
          rows_per_page: String(ROWS_PER_PAGE),
          page: String(page)
        }
      })
      const list = parseListPage(body, `Knack GET ${path} page ${page}`)
      // An empty page, not total_pages, is the reliable end.
      if (list.records.length === 0) return
      for (const record of list.records) yield record
      if (list.records.length < ROWS_PER_PAGE && page >= list.totalPages) return
      const last = atdOf(app, list.records[list.records.length - 1])
      if (last !== undefined && (after === undefined || last > after)) {
        after = last
        page = 1
      } else {
        page++
      }
    }
    throw knackError(`Knack GET ${path}: more than ${MAX_PAGES} pages; stopped`, { retryable: false, messages: [] })
  }

  return {
    readyRecords,

    async readRecord(app, id) {
      const path = `${viewPath(app)}/${seg(id)}`
      const body = await transport.send({
        credentials: app.credentials,
        method: 'GET',
        route: '/pages/:scene/views/:view/records/:id',
        path
      })
      if (!isRecord(body)) {
        throw knackError(`Knack GET ${path} answered with something that is not a record`, { retryable: false, messages: [] })
      }
      return body
    },

    async updateStatus(app, id, status) {
      await transport.send({
        credentials: app.credentials,
        method: 'PUT',
        route: '/objects/:obj/records/:id',
        path: `/objects/${seg(app.obj)}/records/${seg(id)}`,
        body: { [app.fields.esb_status]: status }
      })
    },

    async listFields(app) {
      const path = `/objects/${seg(app.obj)}/fields`
      const body = await transport.send({ credentials: app.credentials, method: 'GET', route: '/objects/:obj/fields', path })
      const fields = (body as { fields?: unknown } | null)?.fields
      if (!Array.isArray(fields)) {
        throw knackError(`Knack GET ${path} answered without a fields list`, { retryable: false, messages: [] })
      }
      return fields.filter(isField).map((f): KnackField => ({ key: f.key, name: f.name, type: f.type }))
    },

    close: () => transport.close()
  }
}

interface ListPage {
  totalPages: number
  records: KnackRecord[]
}

function parseListPage(body: unknown, what: string): ListPage {
  const b = body as { total_pages?: unknown; records?: unknown } | null
  if (b === null || typeof b !== 'object' || !Array.isArray(b.records) || !b.records.every(isRecord)) {
    throw knackError(`${what} answered with something that is not a page of records`, { retryable: false, messages: [] })
  }
  // Knack has been seen sending numbers as strings; a missing count means "keep going until empty".
  const totalPages = Number(b.total_pages ?? Number.POSITIVE_INFINITY)
  return { totalPages: Number.isNaN(totalPages) ? Number.POSITIVE_INFINITY : totalPages, records: b.records }
}

function isRecord(value: unknown): value is KnackRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as { id?: unknown }).id === 'string'
}

function isField(value: unknown): value is KnackField {
  const f = value as Partial<KnackField> | null
  return f !== null && typeof f === 'object' && typeof f.key === 'string' && typeof f.name === 'string' && typeof f.type === 'string'
}

/** The record's atd_activity_id as a number, when it has one. */
function atdOf(app: AppConfig, record: KnackRecord | undefined): number | undefined {
  if (!record) return undefined
  const field = app.fields.atd_activity_id
  const value = record[`${field}_raw`] ?? record[field]
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.replace(/,/g, '')) : NaN
  return Number.isFinite(n) ? n : undefined
}
