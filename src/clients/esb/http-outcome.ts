// Turns one ESB HTTP answer (status + body) into what it says and who is at fault. The ESB answers
// a fault about the message with HTTP 500 and a SOAP fault (reference/esb-message.md); the Boomi
// gateway in front of it answers 404 "No such path" from nodes without the listener, and 5xx,
// 429 or 401/403 of its own (reference/esb-today.md). Only an answer about the message counts
// against the delivery.
import { parseSoapFault } from './soap-fault.js'

const SNIPPET_CHARS = 160

export type HttpVerdict =
  | { kind: 'accepted'; status: number; body: string }
  | { kind: 'record'; status: number; faultCode?: string | undefined; faultString?: string | undefined; reason: string }
  | { kind: 'endpoint'; status: number; label: string; reason: string; credentials: boolean }

/** Statuses that are the endpoint's, whatever the body says: the gateway routing, throttling or
 *  refusing us, or ESB_ENDPOINT pointing at the wrong place (3xx). */
const ENDPOINT_STATUSES = new Set([401, 403, 404, 408, 425, 429])
/** Statuses about the message itself even without a fault. */
const RECORD_STATUSES = new Set([400, 413, 422])

export function httpOutcome(status: number, body: string, statusMessage = ''): HttpVerdict {
  const ok = status >= 200 && status < 300
  const fault = parseSoapFault(body)
  if (ok && fault === undefined) return { kind: 'accepted', status, body }

  const detail = fault ? describeFault(fault.code, fault.string) : snippet(body, statusMessage)
  const prefix = ok ? `HTTP ${status} with SOAP fault` : `HTTP ${status}`
  const reason = detail === '' ? prefix : `${prefix} ${detail}`

  if (status === 401 || status === 403) {
    return { kind: 'endpoint', status, label: `http_${status}`, reason: `${reason} (the ESB refused the credentials: check ESB_AUTH, ESB_USERNAME, ESB_PASSWORD and the client certificate)`, credentials: true }
  }
  if (status < 200 || (status >= 300 && status < 400) || ENDPOINT_STATUSES.has(status)) {
    return { kind: 'endpoint', status, label: `http_${status}`, reason, credentials: false }
  }
  if (fault !== undefined || RECORD_STATUSES.has(status)) {
    return { kind: 'record', status, faultCode: fault?.code, faultString: fault?.string, reason }
  }
  // 5xx without a fault, and 4xx that say nothing about the message (405, 406, 415, ...): the
  // endpoint is failing or misconfigured for every message alike.
  return { kind: 'endpoint', status, label: `http_${status}`, reason, credentials: false }
}

function describeFault(code: string | undefined, text: string | undefined): string {
  if (code && text) return `${code}: ${text}`
  return code ?? text ?? '(SOAP fault without code or string)'
}

/** A short single-line excerpt of a non-fault body (or the status text), for the delivery's reason. */
function snippet(body: string, statusMessage: string): string {
  const line = body
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  const text = line === '' ? statusMessage.trim() : line
  if (text === '') return ''
  return text.length > SNIPPET_CHARS ? `(${text.slice(0, SNIPPET_CHARS)}...)` : `(${text})`
}
