// A local stand-in for the City's ESB behind its Boomi gateway: HTTPS with mutual TLS (a client
// without a certificate from a trusted CA is refused during the handshake, unless client
// certificates are optional), optional HTTP Basic credentials, the checks the real integration
// makes of each message (reference/esb-message.md), and a record of what it accepted and from
// whom (certificate CN, Basic user). Failure modes — faults, statuses, hangs, being down, and
// today's gateway (reference/esb-today.md: "404 No such path" on a share of requests, time-outs
// after the body was read) — let tests and the sandbox exercise every delivery path.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { Socket } from 'node:net'
import type { TestPki } from './certs.js'
import { inspectMessage } from './esb-message-check.js'
import { basicCredentials, fault, OK_ENVELOPE, peerCN, plain, readBody, seededRandom, send, type BasicCredentials, type EsbFault } from './esb-sim-http.js'

export { ACC_NS, inspectMessage, SOAPENV_NS } from './esb-message-check.js'
export type { BasicCredentials, EsbFault } from './esb-sim-http.js'

export const ESB_SIMULATOR_PATH = '/AcceptKnack'
/** Where the City's Boomi gateway listens (reference/esb-today.md, July 2026). */
export const ESB_GATEWAY_PATH = '/ws/rest/v1/knack/submitKnack/'

export interface EsbReceived {
  at: Date
  xml: string
  /** header + csr element values by name (emi, timestamp, ..., id, sr_number, ...), trimmed. */
  values: Record<string, string>
  /** CN of the verified client certificate that sent it; '' when none. */
  clientCN: string
  /** The Basic user it came with; null when it had no Basic credentials. */
  basicUser: string | null
  path: string
}

export type EsbMode = 'ok' | 'hang' | { fault: EsbFault } | { status: number }

/** Today's gateway: shares of requests answered 404 No such path, or read and never answered. */
export interface EsbFlakiness {
  notFound?: number
  timeout?: number
  /** Seed of the generator that decides each request (default 1). */
  seed?: number
}

export interface EsbServerTls {
  cert: string
  key: string
  /** CA that client certificates must chain to. */
  ca: string
}

export interface EsbSimulatorOptions {
  /** A test PKI (its server cert/key and CA are used) or the server's own cert/key/CA. */
  pki: TestPki | EsbServerTls
  /** Default 0: any free port. */
  port?: number
  latencyMs?: number
  /** How many messages `received` (and `unanswered`) keep (oldest dropped first). Default 100 000. */
  maxReceived?: number
  /** 'optional': a client without a certificate gets through the handshake (ESB_AUTH=basic). Default 'required'. */
  clientCertificate?: 'required' | 'optional'
  /** Demand these HTTP Basic credentials (401 otherwise). */
  basic?: BasicCredentials
  flaky?: EsbFlakiness
}

export interface EsbStats {
  /** Answered 404 No such path by the flaky gateway. */
  notFound: number
  /** Read and left unanswered. */
  timeouts: number
  /** Answered 401 for missing or wrong Basic credentials. */
  unauthorized: number
}

export interface EsbSimulator {
  /** https://127.0.0.1:<port>/AcceptKnack */
  readonly url: string
  /** https://127.0.0.1:<port>/ws/rest/v1/knack/submitKnack/ (the same service) */
  readonly gatewayUrl: string
  readonly port: number
  /** Messages answered with success, oldest first. */
  readonly received: EsbReceived[]
  /** Well-formed messages read in full and never answered (the client timed out): they may count as delivered. */
  readonly unanswered: EsbReceived[]
  /** Every HTTP request that reached the simulator, whatever its answer. */
  readonly attempts: number
  /** TLS handshakes refused (no client certificate, untrusted one, ...). */
  readonly tlsRejections: number
  readonly stats: EsbStats
  mode(m: EsbMode): void
  /** The next `n` well-formed messages get `fault`, then the current mode applies again. */
  failNext(n: number, fault: EsbFault): void
  /** Messages whose values match get `fault` (one bad record among good ones); undefined stops it. */
  faultWhen(match: ((values: Record<string, string>) => boolean) | undefined, fault?: EsbFault): void
  /** The next `n` well-formed messages are read, recorded in `unanswered`, and never answered. */
  timeoutNext(n: number): void
  /** Behave like today's gateway (undefined: stop). */
  flaky(f: EsbFlakiness | undefined): void
  /** Demand Basic credentials from now on (undefined: stop demanding). */
  requireBasic(credentials: BasicCredentials | undefined): void
  /** Also accept client certificates signed by this CA (new connections). */
  trust(caPem: string): void
  setLatency(ms: number): void
  /** Stop listening and drop every connection; `up()` listens again on the same port. */
  down(): Promise<void>
  up(): Promise<void>
  clear(): void
  /** Resolves once `received` holds at least `count` messages; rejects after `timeoutMs`. */
  waitForReceived(count: number, timeoutMs?: number): Promise<EsbReceived[]>
  close(): Promise<void>
}

const HOST = '127.0.0.1'

export async function startEsbSimulator(opts: EsbSimulatorOptions): Promise<EsbSimulator> {
  const tls = 'server' in opts.pki ? { ...opts.pki.server, ca: opts.pki.ca.cert } : opts.pki
  const maxReceived = opts.maxReceived ?? 100_000
  const received: EsbReceived[] = []
  const unanswered: EsbReceived[] = []
  const trusted = [tls.ca]
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const waiters = new Set<() => void>()
  const stats: EsbStats = { notFound: 0, timeouts: 0, unauthorized: 0 }
  let mode: EsbMode = 'ok'
  let latencyMs = opts.latencyMs ?? 0
  let failures: { left: number; fault: EsbFault } = { left: 0, fault: { code: '', string: '' } }
  let faultMatch: { match: (values: Record<string, string>) => boolean; fault: EsbFault } | undefined
  let timeoutsLeft = 0
  let flakiness: { notFound: number; timeout: number; random: () => number } | undefined
  let basic = opts.basic
  let attempts = 0
  let tlsRejections = 0
  let listening = false
  let closed = false

  const setFlaky = (f: EsbFlakiness | undefined): void => {
    flakiness = f && { notFound: f.notFound ?? 0, timeout: f.timeout ?? 0, random: seededRandom(f.seed ?? 1) }
  }
  setFlaky(opts.flaky)

  const optional = opts.clientCertificate === 'optional'
  // Optional: the handshake asks for a certificate and verifies one that is presented, but lets a
  // client without one through (peerCN then says ''); Basic credentials do the proving.
  const server = createServer({ cert: tls.cert, key: tls.key, ca: trusted, requestCert: true, rejectUnauthorized: !optional })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.on('tlsClientError', () => {
    tlsRejections++
  })
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => res.destroy())
  })

  const keep = (list: EsbReceived[], item: EsbReceived): void => {
    list.push(item)
    if (list.length > maxReceived) list.splice(0, list.length - maxReceived)
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    attempts++
    const path = new URL(req.url ?? '/', 'https://esb.invalid').pathname
    if (path !== ESB_SIMULATOR_PATH && path !== ESB_GATEWAY_PATH) return void plain(res, 404, `No such path for url ${path}`)
    if (req.method !== 'POST') return void plain(res, 405, `${req.method ?? '?'} not allowed: POST the message`)
    const raw = await readBody(req)
    if (raw === undefined) return void plain(res, 413, 'Message too large')

    // One draw per request decides what the flaky gateway does with it.
    const draw = flakiness?.random() ?? 1
    if (flakiness && draw < flakiness.notFound) {
      stats.notFound++
      // A gateway node without the listener: it knows nothing of credentials or messages.
      return void plain(res, 404, `No such path for url https://${req.headers.host ?? HOST}${path}`, {}, 'No such path')
    }
    const credentials = basicCredentials(req)
    if (basic && (credentials?.username !== basic.username || credentials.password !== basic.password)) {
      stats.unauthorized++
      return void plain(res, 401, 'Unauthorized: valid Basic credentials required', { 'www-authenticate': 'Basic realm="ESB"' })
    }
    if (mode === 'hang') return // held until down()/close() destroys the socket
    if (latencyMs > 0) await sleep(latencyMs)

    const checked = inspectMessage(raw, req.headers['content-type'])
    if (!checked.ok) return void fault(res, { code: 'env:Client', string: checked.problem })
    const message: EsbReceived = { at: new Date(), xml: checked.xml, values: checked.values, clientCN: peerCN(req), basicUser: credentials?.username ?? null, path }
    if (timeoutsLeft > 0 || (flakiness && draw < flakiness.notFound + flakiness.timeout)) {
      if (timeoutsLeft > 0) timeoutsLeft--
      stats.timeouts++
      keep(unanswered, message)
      return // read and recorded; the answer never comes (the client gives up and closes)
    }
    if (failures.left > 0) {
      failures.left--
      return void fault(res, failures.fault)
    }
    if (faultMatch?.match(checked.values)) return void fault(res, faultMatch.fault)
    if (typeof mode === 'object' && 'fault' in mode) return void fault(res, mode.fault)
    const status = typeof mode === 'object' ? mode.status : 200
    if (status < 200 || status >= 300) return void plain(res, status, `Simulated HTTP ${status}`)

    keep(received, message)
    for (const wake of waiters) wake()
    send(res, status, 'text/xml; charset=utf-8', OK_ENVELOPE)
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        resolve()
      }, ms)
      timers.add(timer)
    })
  }

  async function listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, HOST, () => {
        server.off('error', reject)
        resolve()
      })
    })
    listening = true
  }

  async function stopListening(): Promise<void> {
    if (!listening) return
    listening = false
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const socket of sockets) socket.destroy()
    await stopped
  }

  await listen(opts.port ?? 0)
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('ESB simulator has no TCP address')
  const port = address.port

  return {
    url: `https://${HOST}:${port}${ESB_SIMULATOR_PATH}`,
    gatewayUrl: `https://${HOST}:${port}${ESB_GATEWAY_PATH}`,
    port,
    received,
    unanswered,
    stats,
    get attempts() {
      return attempts
    },
    get tlsRejections() {
      return tlsRejections
    },
    mode(m) {
      mode = m
    },
    failNext(n, f) {
      failures = { left: Math.max(0, Math.floor(n)), fault: f }
    },
    faultWhen(match, f = { code: 'env:Client', string: 'Internal Error' }) {
      faultMatch = match && { match, fault: f }
    },
    timeoutNext(n) {
      timeoutsLeft = Math.max(0, Math.floor(n))
    },
    flaky: setFlaky,
    requireBasic(credentials) {
      basic = credentials
    },
    trust(caPem) {
      trusted.push(caPem)
      server.setSecureContext({ cert: tls.cert, key: tls.key, ca: trusted })
    },
    setLatency(ms) {
      latencyMs = Math.max(0, ms)
    },
    down: stopListening,
    async up() {
      if (closed) throw new Error('ESB simulator is closed')
      if (!listening) await listen(port)
    },
    clear() {
      received.length = 0
      unanswered.length = 0
      attempts = 0
      tlsRejections = 0
      Object.assign(stats, { notFound: 0, timeouts: 0, unauthorized: 0 })
    },
    waitForReceived(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (received.length < count) return
          cleanup()
          resolve(received.slice())
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(new Error(`ESB simulator: expected ${count} messages within ${timeoutMs} ms, got ${received.length}`))
        }, timeoutMs)
        const cleanup = (): void => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        waiters.add(check)
        check()
      })
    },
    async close() {
      closed = true
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      await stopListening()
    }
  }
}
