// Turns an ESB HTTP answer (status + body) into an EsbOutcome. The ESB's current behaviour
// (reference/esb-message.md): 2xx is success unless the body is a SOAP fault; a 500 carries a
// fault such as env:Client / Internal Error.
import type { EsbOutcome } from './types.js'
import { parseSoapFault } from './soap-fault.js'

const SNIPPET_CHARS = 160

export function httpOutcome(status: number, body: string): EsbOutcome {
  const fault = parseSoapFault(body)
  if (status >= 200 && status < 300 && fault === undefined) return { kind: 'accepted', status, body }

  const faultText = fault ? describeFault(fault.code, fault.string) : snippet(body)
  const prefix = status >= 200 && status < 300 ? `HTTP ${status} with SOAP fault` : `HTTP ${status}`
  return {
    kind: 'rejected',
    retryable: isRetryableStatus(status),
    status,
    faultCode: fault?.code,
    faultString: fault?.string,
    reason: faultText === '' ? prefix : `${prefix} ${faultText}`
  }
}

/**
 * 2xx-with-fault and 5xx: the ESB or what is behind it failed, try again. 408 and 429 say "try
 * again" themselves. Other 4xx (and 3xx: a redirect means ESB_ENDPOINT is wrong) will fail the
 * same way every time.
 */
function isRetryableStatus(status: number): boolean {
  if (status >= 200 && status < 300) return true
  if (status >= 500) return true
  return status === 408 || status === 429
}

function describeFault(code: string | undefined, text: string | undefined): string {
  if (code && text) return `${code}: ${text}`
  return code ?? text ?? '(SOAP fault without code or string)'
}

/** A short single-line excerpt of a non-fault body, for the delivery's reason. */
function snippet(body: string): string {
  const line = body
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  if (line === '') return ''
  return line.length > SNIPPET_CHARS ? `(${line.slice(0, SNIPPET_CHARS)}...)` : `(${line})`
}
