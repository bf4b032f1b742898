// A local stand-in for Knack's REST API (https://api.knack.com/v1) on 127.0.0.1, used by the
// sandbox and by tests. It speaks the parts of the API this service uses, with Knack's auth
// headers, list shape, filters, sorting, paging, per-second and daily limits, and 429 headers.
//
// Simplifications (on purpose):
// - A view route answers the records of the view's object with ALL their fields (real Knack
//   shows only the view's fields, plus connected ones).
// - Filters support `is`, `is not`, `is blank`, `is not blank`, `higher than`, `lower than`, with match `and`/`or`.
// - Requests answered 429 still count in the per-second window and toward the daily limit.
// - The daily counter resets at midnight UTC.
//
// Where the time goes (latencyMs): a request first travels to Knack (the network's one-way time,
// networkMs) and only then does Knack count it in its window; the rest of the latency is Knack's
// own work after counting. Each leg varies by ±jitter (a fraction), drawn from a generator seeded
// with `seed`, so runs repeat. The answer's way back is folded into the work. A client that
// writes two requests at the same moment may thus see them counted up to
// 2 × jitter × networkMs apart: that is the arrival spread a limiter must leave per window.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { KnackField, KnackRecord } from '../clients/knack/types.js'
import type { AppConfig } from '../config/types.js'
import { fieldsOf, formatParagraph } from './knack-records.js'
import { HttpError, listAnswer } from './knack-query.js'

export interface KnackSimulatorOptions {
  /** Default 0: pick a free port. */
  port?: number
  /** Requests per app in any sliding 1000 ms window before 429. Default 10. */
  rateLimit?: number
  /** From the request's arrival at our socket to the answer, both legs together. Default 0. */
  latencyMs?: number
  /** The part of latencyMs before Knack counts the request (the network's one-way time).
   *  Default 20 ms, never more than latencyMs (so 0 when latencyMs is 0). */
  networkMs?: number
  /** Each leg is drawn from its mean × (1 ± jitter), uniformly; e.g. 0.3. Default 0. */
  jitter?: number
  /** Seeds the jitter's generator. Default 1. */
  seed?: number
  /** Requests per app per day before 429. Default 25,000 (Knack's largest plan). */
  dailyLimit?: number
}

export interface SimulatorAppSpec {
  appId: string
  apiKey: string
  /** Object key → its fields (what `GET /objects/<obj>/fields` lists; PUT accepts only these). */
  objects: Record<string, KnackField[]>
  views: Array<{ scene: string; view: string; obj: string }>
}

export interface SimulatorPut {
  appId: string
  obj: string
  id: string
  body: Record<string, unknown>
  /** Epoch ms. */
  at: number
}

export interface SimulatorStats {
  requests: number
  /** e.g. `GET /pages/:scene/views/:view/records` → count. */
  byRoute: Record<string, number>
  /** 429s sent (forced ones included). */
  rateLimited: number
  /** Highest count of requests from one app in any sliding 1000 ms window. */
  maxInAnyWindow: number
  /** The last MAX_PUTS PUTs, oldest first. */
  puts: SimulatorPut[]
  /** The legs drawn for the last MAX_LEGS requests, oldest first (see networkMs and jitter). */
  legs: Array<{ networkMs: number; workMs: number }>
  /** When Knack counted each of the last MAX_ARRIVALS requests (epoch ms, in the order counted):
   *  what its window saw, so a bench can measure a client's rate where Knack measures it. */
  arrivals: Array<{ appId: string; at: number }>
}

export interface FailureMatch {
  method?: string
  /** Matched against the request's path and query below the host (e.g. `/v1/objects/...`). */
  pathIncludes?: string
  status: number
  /** Extra answer headers. A forced 429 gets X-RateLimit-Reset = now + 1 s unless given here. */
  headers?: Record<string, string>
  /** Answer body; default Knack's `{"errors":[{"message":…}]}`. */
  body?: unknown
}

export interface KnackSimulator {
  /** Base URL ending in /v1. */
  readonly url: string
  addApp(spec: SimulatorAppSpec): void
  /** Add records (or replace those with the same id) in an object. */
  seed(appId: string, obj: string, records: KnackRecord[]): void
  /** Delete a record, as someone in the Knack builder would; false when it was not there. */
  remove(appId: string, obj: string, id: string): boolean
  getRecord(appId: string, obj: string, id: string): KnackRecord | undefined
  records(appId: string, obj: string): KnackRecord[]
  stats(): SimulatorStats
  resetStats(): void
  /** Answer the next `count` authenticated requests that match with `status`. */
  failNext(count: number, match: FailureMatch): void
  /** The whole latency, keeping the network leg's mean (never more than `ms`) and the jitter. */
  setLatency(ms: number): void
  close(): Promise<void>
}

/** The simulator app for a configured app: its credentials, its object with the mapped fields,
 *  and its view over that object. */
export function appSpecFor(app: AppConfig): SimulatorAppSpec {
  return {
    appId: app.credentials.appId,
    apiKey: app.credentials.apiKey,
    objects: { [app.obj]: fieldsOf(app) },
    views: [{ scene: app.scene, view: app.view, obj: app.obj }]
  }
}

const MAX_PUTS = 100_000
const MAX_LEGS = 10_000
const MAX_ARRIVALS = 100_000
const MAX_BODY_BYTES = 1_000_000
const WINDOW_MS = 1000

interface AppState {
  spec: SimulatorAppSpec
  objects: Map<string, Map<string, KnackRecord>>
  fieldTypes: Map<string, Map<string, string>>
  views: Map<string, string>
  /** Arrival times (epoch ms) inside the current 1000 ms window, oldest first. */
  window: number[]
  day: string
  dayCount: number
}

/** The i-th path parameter of the matched route. */
type Param = (i: number) => string

interface Route {
  label: string
  handle(app: AppState, p: Param, req: IncomingMessage, query: URLSearchParams): Promise<Answer> | Answer
}

interface Answer {
  status: number
  body: unknown
}

export async function startKnackSimulator(opts: KnackSimulatorOptions = {}): Promise<KnackSimulator> {
  const rateLimit = opts.rateLimit ?? 10
  const dailyLimit = opts.dailyLimit ?? 25_000
  let latencyMs = Math.max(0, opts.latencyMs ?? 0)
  const networkMeanMs = Math.max(0, opts.networkMs ?? 20)
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? 0))
  const random = seededRandom(opts.seed ?? 1)
  /** The mean ms of one leg drawn with the jitter. */
  const draw = (meanMs: number): number => (meanMs <= 0 ? 0 : meanMs * (1 + jitter * (2 * random() - 1)))
  /** The two legs of one request: before Knack counts it, and Knack's work after. */
  const legs = (): { networkMs: number; workMs: number } => {
    const network = Math.min(networkMeanMs, latencyMs)
    const leg = { networkMs: draw(network), workMs: draw(latencyMs - network) }
    stats.legs.push(leg)
    if (stats.legs.length > MAX_LEGS + MAX_LEGS / 10) stats.legs.splice(0, stats.legs.length - MAX_LEGS)
    return leg
  }
  const apps = new Map<string, AppState>()
  const switches: Array<{ remaining: number; match: FailureMatch }> = []
  let stats = emptyStats()
  let closed = false

  function appOf(appId: string): AppState {
    const app = apps.get(appId)
    if (!app) throw new Error(`simulator: no app ${appId}`)
    return app
  }

  function objectOf(app: AppState, obj: string): Map<string, KnackRecord> {
    const records = app.objects.get(obj)
    if (!records) throw new HttpError(404, `Object ${obj} not found`)
    return records
  }

  function viewObject(app: AppState, scene: string, view: string): Map<string, KnackRecord> {
    const obj = app.views.get(`${scene}/${view}`)
    if (obj === undefined) throw new HttpError(404, `View ${view} of ${scene} not found`)
    return objectOf(app, obj)
  }

  function findRecord(records: Map<string, KnackRecord>, id: string): KnackRecord {
    const record = records.get(id)
    if (!record) throw new HttpError(404, `Record ${id} not found`)
    return record
  }

  function match(path: string, method: string): { route: Route; params: string[] } | undefined {
    const parts = path.split('/').slice(1).map(decodeSegment)
    const [a, b, c, d, e, f, extra] = parts
    if (parts.some((p) => p === undefined || p === '')) return undefined
    if (a === 'pages' && c === 'views' && e === 'records' && b && d && extra === undefined && method === 'GET') {
      if (f === undefined) return { route: routes.viewList, params: [b, d] }
      return { route: routes.viewRecord, params: [b, d, f] }
    }
    if (a === 'objects' && b && e === undefined) {
      if (c === 'fields' && d === undefined && method === 'GET') return { route: routes.fields, params: [b] }
      if (c === 'records' && d === undefined && method === 'GET') return { route: routes.objectList, params: [b] }
      if (c === 'records' && d !== undefined && method === 'GET') return { route: routes.objectRecord, params: [b, d] }
      if (c === 'records' && d !== undefined && method === 'PUT') return { route: routes.put, params: [b, d] }
    }
    return undefined
  }

  const routes = {
    viewList: {
      label: 'GET /pages/:scene/views/:view/records',
      handle: (app: AppState, p: Param, _req: IncomingMessage, q: URLSearchParams): Answer => ({ status: 200, body: listAnswer([...viewObject(app, p(0), p(1)).values()], q) })
    },
    viewRecord: {
      label: 'GET /pages/:scene/views/:view/records/:id',
      handle: (app: AppState, p: Param): Answer => ({ status: 200, body: findRecord(viewObject(app, p(0), p(1)), p(2)) })
    },
    objectList: {
      label: 'GET /objects/:obj/records',
      handle: (app: AppState, p: Param, _req: IncomingMessage, q: URLSearchParams): Answer => ({ status: 200, body: listAnswer([...objectOf(app, p(0)).values()], q) })
    },
    objectRecord: {
      label: 'GET /objects/:obj/records/:id',
      handle: (app: AppState, p: Param): Answer => ({ status: 200, body: findRecord(objectOf(app, p(0)), p(1)) })
    },
    fields: {
      label: 'GET /objects/:obj/fields',
      handle: (app: AppState, p: Param): Answer => {
        objectOf(app, p(0))
        return { status: 200, body: { fields: app.spec.objects[p(0)] ?? [] } }
      }
    },
    put: {
      label: 'PUT /objects/:obj/records/:id',
      handle: async (app: AppState, p: Param, req: IncomingMessage): Promise<Answer> => {
        const [obj, id] = [p(0), p(1)]
        const record = findRecord(objectOf(app, obj), id)
        const body = parseBody(await readBody(req))
        const types = app.fieldTypes.get(obj) ?? new Map<string, string>()
        for (const key of Object.keys(body)) {
          if (types.size > 0 && !types.has(key)) throw new HttpError(400, `Field ${key} is not a field of ${obj}`, key)
        }
        for (const [key, value] of Object.entries(body)) {
          record[key] = typeof value === 'string' && types.get(key) === 'paragraph_text' ? formatParagraph(value) : value
          record[`${key}_raw`] = value
        }
        stats.puts.push({ appId: app.spec.appId, obj, id, body, at: Date.now() })
        if (stats.puts.length > MAX_PUTS + MAX_PUTS / 10) stats.puts.splice(0, stats.puts.length - MAX_PUTS)
        return { status: 200, body: record }
      }
    }
  } satisfies Record<string, Route>

  /** Count the request in the app's window and day; say whether it is over a limit. */
  function meter(app: AppState, now: number): { over: boolean; headers: Record<string, string> } {
    while (app.window.length > 0 && (app.window[0] as number) <= now - WINDOW_MS) app.window.shift()
    // Arrival times come from drawn network legs, so one may be earlier than the last counted: keep the window sorted.
    let at = app.window.length
    while (at > 0 && (app.window[at - 1] as number) > now) at--
    app.window.splice(at, 0, now)
    stats.arrivals.push({ appId: app.spec.appId, at: now })
    if (stats.arrivals.length > MAX_ARRIVALS + MAX_ARRIVALS / 10) stats.arrivals.splice(0, stats.arrivals.length - MAX_ARRIVALS)
    stats.maxInAnyWindow = Math.max(stats.maxInAnyWindow, app.window.length)
    const day = new Date(now).toISOString().slice(0, 10)
    if (day !== app.day) {
      app.day = day
      app.dayCount = 0
    }
    app.dayCount++
    // The window has room again once the entry `rateLimit` places from the newest has expired.
    const blocking = app.window[app.window.length - rateLimit]
    const resetMs = blocking === undefined ? now : blocking + WINDOW_MS
    const headers = {
      'X-RateLimit-Limit': String(rateLimit),
      'X-RateLimit-Remaining': String(Math.max(0, rateLimit - app.window.length)),
      'X-RateLimit-Reset': String(Math.ceil(resetMs / 1000)),
      'X-PlanLimit-Limit': String(dailyLimit),
      'X-PlanLimit-Remaining': String(Math.max(0, dailyLimit - app.dayCount)),
      'X-PlanLimit-Reset': String(Date.parse(`${day}T00:00:00Z`) / 1000 + 86_400)
    }
    return { over: app.window.length > rateLimit || app.dayCount > dailyLimit, headers }
  }

  function takeSwitch(method: string, url: string): FailureMatch | undefined {
    const i = switches.findIndex(
      (s) => s.remaining > 0 && (s.match.method === undefined || s.match.method.toUpperCase() === method) && (s.match.pathIncludes === undefined || url.includes(s.match.pathIncludes))
    )
    const hit = switches[i]
    if (!hit) return undefined
    if (--hit.remaining === 0) switches.splice(i, 1)
    return hit.match
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET'
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const below = url.pathname.startsWith('/v1/') ? url.pathname.slice(3) : undefined
    const found = below === undefined ? undefined : match(below, method)
    stats.requests++
    const label = found?.route.label ?? `${method} unknown`
    stats.byRoute[label] = (stats.byRoute[label] ?? 0) + 1

    const app = apps.get(header(req, 'x-knack-application-id') ?? '')
    if (!app || header(req, 'x-knack-rest-api-key') !== app.spec.apiKey) {
      req.resume()
      return send(res, 401, errors('Invalid API key or application id'))
    }
    const { networkMs, workMs } = legs()
    // Knack counts the request when it arrives: after the network leg. The arrival is the time
    // the leg ends (not when its timer fires), so a late timer does not move the count.
    const now = Date.now() + networkMs
    if (networkMs > 0) await delay(now - Date.now())
    const metered = meter(app, Math.round(now))
    const reply = async (status: number, body: unknown, extra: Record<string, string> = {}): Promise<void> => {
      if (workMs > 0) await delay(workMs)
      if (status === 429) stats.rateLimited++
      send(res, status, body, { ...metered.headers, ...extra })
    }
    if (metered.over) {
      req.resume()
      return reply(429, errors('Rate limit exceeded'), { 'X-RateLimit-Remaining': '0' })
    }
    const forced = takeSwitch(method, req.url ?? '')
    if (forced) {
      req.resume()
      const extra: Record<string, string> = forced.status === 429 ? { 'X-RateLimit-Reset': String(Math.ceil(now / 1000) + 1), 'X-RateLimit-Remaining': '0' } : {}
      return reply(forced.status, forced.body ?? errors(forced.status === 429 ? 'Rate limit exceeded' : `Simulated failure ${forced.status}`), { ...extra, ...forced.headers })
    }
    if (!found) {
      req.resume()
      return reply(404, errors(`No route ${method} ${url.pathname}`))
    }
    try {
      const answer = await found.route.handle(app, (i) => found.params[i] ?? '', req, url.searchParams)
      return reply(answer.status, answer.body)
    } catch (err) {
      req.resume()
      if (err instanceof HttpError) return reply(err.status, { errors: [{ field: err.field, type: 'invalid', message: err.message }] })
      return reply(500, errors('Internal simulator error'))
    }
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (closed || res.destroyed) return
    const text = JSON.stringify(body)
    res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
    res.end(text)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, errors('Internal simulator error')))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}/v1`,

    addApp(spec) {
      const app: AppState = { spec, objects: new Map(), fieldTypes: new Map(), views: new Map(), window: [], day: '', dayCount: 0 }
      for (const [obj, fields] of Object.entries(spec.objects)) {
        app.objects.set(obj, new Map())
        app.fieldTypes.set(obj, new Map(fields.map((f) => [f.key, f.type])))
      }
      for (const v of spec.views) {
        if (!app.objects.has(v.obj)) throw new Error(`simulator: view ${v.view} names unknown object ${v.obj}`)
        app.views.set(`${v.scene}/${v.view}`, v.obj)
      }
      apps.set(spec.appId, app)
    },

    seed(appId, obj, records) {
      const store = appOf(appId).objects.get(obj)
      if (!store) throw new Error(`simulator: app ${appId} has no object ${obj}`)
      for (const r of records) store.set(r.id, structuredClone(r))
    },

    remove(appId, obj, id) {
      return appOf(appId).objects.get(obj)?.delete(id) ?? false
    },

    getRecord(appId, obj, id) {
      const r = appOf(appId).objects.get(obj)?.get(id)
      return r === undefined ? undefined : structuredClone(r)
    },

    records(appId, obj) {
      return [...(appOf(appId).objects.get(obj)?.values() ?? [])].map((r) => structuredClone(r))
    },

    stats() {
      return { ...stats, byRoute: { ...stats.byRoute }, puts: [...stats.puts], legs: stats.legs.map((l) => ({ ...l })), arrivals: stats.arrivals.map((a) => ({ ...a })) }
    },

    resetStats() {
      stats = emptyStats()
    },

    failNext(count, failure) {
      if (count > 0) switches.push({ remaining: Math.floor(count), match: failure })
    },

    setLatency(ms) {
      latencyMs = Math.max(0, ms)
    },

    async close() {
      closed = true
      const done = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await done
    }
  }
}

// ---- HTTP helpers ----

function errors(message: string): { errors: Array<{ message: string }> } {
  return { errors: [{ message }] }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'Body too large'))
        req.resume()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function parseBody(text: string): Record<string, unknown> {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new HttpError(400, 'Body is not valid JSON')
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'Body must be a JSON object')
  return body as Record<string, unknown>
}

function emptyStats(): SimulatorStats {
  return { requests: 0, byRoute: {}, rateLimited: 0, maxInAnyWindow: 0, puts: [], legs: [], arrivals: [] }
}

/** mulberry32: a small seeded generator of floats in [0, 1), so jittered runs repeat. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let x = state
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
