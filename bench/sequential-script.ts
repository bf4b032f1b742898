// Today's algorithm, re-implemented as faithfully as the reference allows (reference/
// esb-message.md, apps.md): one filtered read of the view (every page, 1,000 rows a page, oldest
// atd_activity_id first), then per record, one after the other: build the message, POST it to
// the ESB over mutual TLS (server certificate not verified, 30 s timeout, retry only on a 500:
// 3 tries 2 s apart), and on a 2xx PUT the record's status in Knack. No rate limiter: the
// original had none (sequential requests at these latencies stay under Knack's 10/s anyway).
//
// The message is built with this project's builder, so both sides send the same bytes; the
// old builder's bugs (double escaping, dropped characters) cost no time worth measuring.
// Connections are kept alive (an undici Agent/Pool): the best case for the old script, which
// may have opened a new TLS connection per request.
import { Agent, Pool, request } from 'undici'
import type { AppConfig } from '../src/config/types.js'
import { parseActivity } from '../src/message/activity.js'
import { planMessage } from '../src/message/plan.js'

export interface SequentialScriptOptions {
  app: AppConfig
  /** Knack API base, e.g. http://127.0.0.1:1234/v1 */
  knackUrl: string
  /** Today's script skips server verification (verify=False); this one verifies against `ca`:
   *  with keep-alive it costs one check per connection, and an insecure setting is not copied. */
  esb: { url: string; cert: string; key: string; ca: string }
  /** Stop after this long (a bound for the bench, not part of the original). */
  deadlineMs: number
}

export interface SequentialScriptResult {
  found: number
  sent: number
  skipped: number
  failed: number
  knackRequests: number
  knackRateLimited: number
  esbRequests: number
  ms: number
  /** True when the deadline cut the run short. */
  cutShort: boolean
}

const ESB_TIMEOUT_MS = 30_000
const ESB_TRIES = 3
const ESB_RETRY_WAIT_MS = 2000

export async function runSequentialScript(opts: SequentialScriptOptions): Promise<SequentialScriptResult> {
  const { app } = opts
  const started = performance.now()
  const deadline = Date.now() + opts.deadlineMs
  const base = new URL(opts.knackUrl)
  const prefix = base.pathname.replace(/\/+$/, '')
  const knack = new Pool(base.origin)
  const esb = new Agent({ connect: { cert: opts.esb.cert, key: opts.esb.key, ca: opts.esb.ca } })
  const headers = {
    'x-knack-application-id': app.credentials.appId,
    'x-knack-rest-api-key': app.credentials.apiKey,
    'content-type': 'application/json'
  }
  const result: SequentialScriptResult = { found: 0, sent: 0, skipped: 0, failed: 0, knackRequests: 0, knackRateLimited: 0, esbRequests: 0, ms: 0, cutShort: false }

  async function knackCall(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<unknown> {
    result.knackRequests++
    const res = await knack.request({ method, path: `${prefix}${path}`, headers, body: body === undefined ? null : JSON.stringify(body) })
    const text = await res.body.text()
    if (res.statusCode === 429) result.knackRateLimited++
    if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`Knack ${method} ${path}: HTTP ${res.statusCode}`)
    return JSON.parse(text) as unknown
  }

  async function postToEsb(xml: string): Promise<boolean> {
    for (let attempt = 1; attempt <= ESB_TRIES; attempt++) {
      result.esbRequests++
      const res = await request(opts.esb.url, {
        dispatcher: esb,
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8' },
        body: xml,
        signal: AbortSignal.timeout(ESB_TIMEOUT_MS)
      })
      await res.body.dump()
      if (res.statusCode >= 200 && res.statusCode < 300) return true
      if (res.statusCode !== 500 || attempt === ESB_TRIES) return false
      await new Promise((r) => setTimeout(r, ESB_RETRY_WAIT_MS))
    }
    return false
  }

  try {
    // 1. One filtered read of the view, all pages.
    const filters = JSON.stringify({
      match: 'and',
      rules: [
        { field: app.fields.esb_status, operator: 'is', value: app.statuses.ready },
        { field: app.fields.emi_id, operator: 'is not blank' }
      ]
    })
    const records: Array<Record<string, unknown> & { id: string }> = []
    for (let page = 1; page <= 1000; page++) {
      const q = new URLSearchParams({ filters, sort_field: app.fields.atd_activity_id, sort_order: 'asc', rows_per_page: '1000', page: String(page) })
      const list = (await knackCall('GET', `/pages/${app.scene}/views/${app.view}/records?${q.toString()}`)) as { total_pages: number; records: Array<Record<string, unknown> & { id: string }> }
      records.push(...list.records)
      if (list.records.length === 0 || page >= list.total_pages) break
    }
    result.found = records.length

    // 2. One record at a time: ESB, then Knack.
    for (const record of records) {
      if (Date.now() > deadline) {
        result.cutShort = true
        break
      }
      const parsed = parseActivity(app, record)
      if (!parsed.ok) {
        result.failed++
        continue
      }
      const plan = planMessage(app, parsed.activity, new Date())
      if (plan.kind === 'skip') {
        await knackCall('PUT', `/objects/${app.obj}/records/${record.id}`, { [app.fields.esb_status]: app.statuses.skipped })
        result.skipped++
        continue
      }
      if (!(await postToEsb(plan.xml))) {
        result.failed++
        continue
      }
      await knackCall('PUT', `/objects/${app.obj}/records/${record.id}`, { [app.fields.esb_status]: app.statuses.sent })
      result.sent++
    }
  } finally {
    result.ms = performance.now() - started
    await Promise.allSettled([knack.close(), esb.close()])
  }
  return result
}
