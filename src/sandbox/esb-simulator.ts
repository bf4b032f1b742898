// A local stand-in for the City's ESB: HTTPS with mutual TLS (a client without a certificate from
// our CA is refused during the handshake), checks each message the way the real integration
// needs it (reference/esb-message.md), and records what it accepted. Failure modes (faults,
// statuses, hangs, being down) let tests and the sandbox exercise every delivery path.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import type { TestPki } from './certs.js'

export const SOAPENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/'
export const ACC_NS = 'http://www.austintexas.gov/AcceptKnack/'
export const ESB_SIMULATOR_PATH = '/AcceptKnack'

export interface EsbReceived {
  at: Date
  xml: string
  /** header + csr element values by name (emi, timestamp, ..., id, sr_number, ...), trimmed. */
  values: Record<string, string>
  /** CN of the client certificate that sent it. */
  clientCN: string
}

export interface EsbFault {
  code: string
  string: string
  /** HTTP status of the fault answer; default 500 (what the ESB does). 200 gives a 2xx fault. */
  status?: number
}

export type EsbMode = 'ok' | 'hang' | { fault: EsbFault } | { status: number }

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
  /** How many accepted messages `received` keeps (oldest dropped first). Default 100 000. */
  maxReceived?: number
}

export interface EsbSimulator {
  /** https://127.0.0.1:<port>/AcceptKnack */
  readonly url: string
  readonly port: number
  /** Messages answered with success, oldest first. */
  readonly received: EsbReceived[]
  /** Every HTTP request that reached the simulator, whatever its answer. */
  readonly attempts: number
  /** TLS handshakes refused (no client certificate, untrusted one, ...). */
  readonly tlsRejections: number
  mode(m: EsbMode): void
  /** The next `n` well-formed messages get `fault`, then the current mode applies again. */
  failNext(n: number, fault: EsbFault): void
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
const MAX_BODY_BYTES = 1024 * 1024

export async function startEsbSimulator(opts: EsbSimulatorOptions): Promise<EsbSimulator> {
  const tls = 'server' in opts.pki ? { ...opts.pki.server, ca: opts.pki.ca.cert } : opts.pki
  const maxReceived = opts.maxReceived ?? 100_000
  const received: EsbReceived[] = []
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const waiters = new Set<() => void>()
  let mode: EsbMode = 'ok'
  let latencyMs = opts.latencyMs ?? 0
  let failures: { left: number; fault: EsbFault } = { left: 0, fault: { code: '', string: '' } }
  let attempts = 0
  let tlsRejections = 0
  let listening = false
  let closed = false

  const server = createServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true })
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

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    attempts++
    const path = new URL(req.url ?? '/', 'https://esb.invalid').pathname
    if (path !== ESB_SIMULATOR_PATH) return void plain(res, 404, `No service at ${path}`)
    if (req.method !== 'POST') return void plain(res, 405, `${req.method ?? '?'} not allowed: POST the message`)
    const raw = await readBody(req)
    if (raw === undefined) return void plain(res, 413, 'Message too large')
    if (mode === 'hang') return // held until down()/close() destroys the socket
    if (latencyMs > 0) await sleep(latencyMs)

    const checked = inspectMessage(raw, req.headers['content-type'])
    if (!checked.ok) return void fault(res, { code: 'env:Client', string: checked.problem })
    if (failures.left > 0) {
      failures.left--
      return void fault(res, failures.fault)
    }
    if (typeof mode === 'object' && 'fault' in mode) return void fault(res, mode.fault)
    const status = typeof mode === 'object' ? mode.status : 200
    if (status < 200 || status >= 300) return void plain(res, status, `Simulated HTTP ${status}`)

    received.push({ at: new Date(), xml: checked.xml, values: checked.values, clientCN: peerCN(req) })
    if (received.length > maxReceived) received.splice(0, received.length - maxReceived)
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
    port,
    received,
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
      attempts = 0
      tlsRejections = 0
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

type Inspection = { ok: true; xml: string; values: Record<string, string> } | { ok: false; problem: string }

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  trimValues: true
})

/** The checks the ESB relies on: XML content type, ASCII only, well-formed, the right envelope. */
export function inspectMessage(raw: Buffer, contentType: string | undefined): Inspection {
  if (!/^text\/xml\s*(;|$)/i.test(contentType ?? '')) {
    return { ok: false, problem: `Content-Type must be text/xml, got ${contentType ?? 'none'}` }
  }
  const nonAscii = raw.findIndex((byte) => byte > 0x7f)
  if (nonAscii >= 0) return { ok: false, problem: `Body is not ASCII: byte ${nonAscii} is 0x${raw[nonAscii]?.toString(16)}` }
  const xml = raw.toString('ascii')
  const valid = XMLValidator.validate(xml)
  if (valid !== true) return { ok: false, problem: `Malformed XML at line ${valid.err.line}: ${valid.err.msg}` }

  const doc = parser.parse(xml) as Record<string, unknown>
  const envelope = child(doc, {}, 'Envelope', SOAPENV_NS)
  if (!envelope) return { ok: false, problem: 'No soapenv:Envelope (namespace http://schemas.xmlsoap.org/soap/envelope/)' }
  const body = child(envelope.node, envelope.scope, 'Body', SOAPENV_NS)
  if (!body) return { ok: false, problem: 'No soapenv:Body in the envelope' }
  const submit = child(body.node, body.scope, 'submitKnack', ACC_NS)
  if (!submit) return { ok: false, problem: `No acc:submitKnack (namespace ${ACC_NS}) in the body` }
  const header = objectAt(submit.node, 'header')
  const csr = objectAt(objectAt(submit.node, 'data'), 'csr')
  if (!header) return { ok: false, problem: 'No header in acc:submitKnack' }
  if (!csr) return { ok: false, problem: 'No data/csr in acc:submitKnack' }
  return { ok: true, xml, values: { ...leafValues(header), ...leafValues(csr) } }
}

interface Scoped {
  node: Record<string, unknown>
  /** xmlns declarations in force: prefix ('' = default) → namespace URI. */
  scope: Record<string, string>
}

/** The first child element named `local` in namespace `ns`, whatever prefix it uses. */
function child(parent: unknown, scope: Record<string, string>, local: string, ns: string): Scoped | undefined {
  if (!isObject(parent)) return undefined
  for (const [name, value] of Object.entries(parent)) {
    if (name.startsWith('@_') || name === '?xml') continue
    const [prefix, localName] = name.includes(':') ? name.split(':', 2) : ['', name]
    if (localName !== local) continue
    const node = isObject(Array.isArray(value) ? value[0] : value) ? ((Array.isArray(value) ? value[0] : value) as Record<string, unknown>) : {}
    const inner = { ...scope, ...declarations(node) }
    if (inner[prefix ?? ''] === ns) return { node, scope: inner }
  }
  return undefined
}

function declarations(node: Record<string, unknown>): Record<string, string> {
  const found: Record<string, string> = {}
  for (const [name, value] of Object.entries(node)) {
    if (name === '@_xmlns' && typeof value === 'string') found[''] = value
    else if (name.startsWith('@_xmlns:') && typeof value === 'string') found[name.slice('@_xmlns:'.length)] = value
  }
  return found
}

function objectAt(node: unknown, key: string): Record<string, unknown> | undefined {
  if (!isObject(node)) return undefined
  const value = node[key]
  const first = Array.isArray(value) ? value[0] : value
  if (isObject(first)) return first
  return first === '' ? {} : undefined
}

function leafValues(node: Record<string, unknown>): Record<string, string> {
  const values: Record<string, string> = {}
  for (const [name, value] of Object.entries(node)) {
    if (name.startsWith('@_')) continue
    const first = Array.isArray(value) ? value[0] : value
    if (typeof first === 'string') values[name] = first
    else if (isObject(first)) values[name] = typeof first['#text'] === 'string' ? first['#text'] : ''
    else values[name] = ''
  }
  return values
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buf = chunk as Buffer
    size += buf.length
    if (size > MAX_BODY_BYTES) return undefined
    chunks.push(buf)
  }
  return Buffer.concat(chunks)
}

function peerCN(req: IncomingMessage): string {
  const cn: unknown = (req.socket as TLSSocket).getPeerCertificate().subject?.CN
  if (Array.isArray(cn)) return String(cn[0] ?? '')
  return typeof cn === 'string' ? cn : ''
}

const OK_ENVELOPE =
  '<?xml version="1.0" encoding="UTF-8"?>' +
  `<soapenv:Envelope xmlns:soapenv="${SOAPENV_NS}" xmlns:acc="${ACC_NS}">` +
  '<soapenv:Header/><soapenv:Body><acc:submitKnackResponse><status>ACCEPTED</status></acc:submitKnackResponse>' +
  '</soapenv:Body></soapenv:Envelope>'

function fault(res: ServerResponse, f: EsbFault): void {
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<env:Envelope xmlns:env="${SOAPENV_NS}"><env:Body><env:Fault>` +
    `<faultcode>${escapeXml(f.code)}</faultcode><faultstring>${escapeXml(f.string)}</faultstring>` +
    '</env:Fault></env:Body></env:Envelope>'
  send(res, f.status ?? 500, 'text/xml; charset=utf-8', xml)
}

function plain(res: ServerResponse, status: number, text: string): void {
  send(res, status, 'text/plain; charset=utf-8', text)
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  if (res.destroyed) return
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function escapeXml(text: string): string {
  const named: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' }
  return text.replace(/[<>&"']/g, (c) => named[c] ?? c)
}
