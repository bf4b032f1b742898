// The ESB simulator's side of HTTP: reading a request's body and who sent it (client certificate
// CN, Basic user), and writing the answers the ESB and its gateway give.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { ACC_NS, SOAPENV_NS } from './esb-message-check.js'

export interface EsbFault {
  code: string
  string: string
  /** HTTP status of the fault answer; default 500 (what the ESB does). 200 gives a 2xx fault. */
  status?: number
}

export interface BasicCredentials {
  username: string
  password: string
}

const MAX_BODY_BYTES = 1024 * 1024

/** The body, or undefined when it is larger than the ESB takes. */
export async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
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

/** CN of the client certificate the TLS layer verified; '' when none was presented or verified. */
export function peerCN(req: IncomingMessage): string {
  const socket = req.socket as TLSSocket
  if (!socket.authorized) return ''
  const cn: unknown = socket.getPeerCertificate().subject?.CN
  if (Array.isArray(cn)) return String(cn[0] ?? '')
  return typeof cn === 'string' ? cn : ''
}

/** The Basic credentials of the request, or undefined when it has none (or a malformed header). */
export function basicCredentials(req: IncomingMessage): BasicCredentials | undefined {
  const header = req.headers.authorization ?? ''
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
  if (!m?.[1]) return undefined
  const decoded = Buffer.from(m[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

export const OK_ENVELOPE =
  '<?xml version="1.0" encoding="UTF-8"?>' +
  `<soapenv:Envelope xmlns:soapenv="${SOAPENV_NS}" xmlns:acc="${ACC_NS}">` +
  '<soapenv:Header/><soapenv:Body><acc:submitKnackResponse><status>ACCEPTED</status></acc:submitKnackResponse>' +
  '</soapenv:Body></soapenv:Envelope>'

export function fault(res: ServerResponse, f: EsbFault): void {
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<env:Envelope xmlns:env="${SOAPENV_NS}"><env:Body><env:Fault>` +
    `<faultcode>${escapeXml(f.code)}</faultcode><faultstring>${escapeXml(f.string)}</faultstring>` +
    '</env:Fault></env:Body></env:Envelope>'
  send(res, f.status ?? 500, 'text/xml; charset=utf-8', xml)
}

export function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}, statusMessage?: string): void {
  send(res, status, 'text/plain; charset=utf-8', text, headers, statusMessage)
}

export function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}, statusMessage?: string): void {
  if (res.destroyed) return
  const all = { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)), ...headers }
  if (statusMessage === undefined) res.writeHead(status, all)
  else res.writeHead(status, statusMessage, all)
  res.end(body)
}

function escapeXml(text: string): string {
  const named: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' }
  return text.replace(/[<>&"']/g, (c) => named[c] ?? c)
}

/** mulberry32: a small seeded generator, so a flaky run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
