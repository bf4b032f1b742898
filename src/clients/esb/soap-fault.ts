// Reads a SOAP fault out of an ESB answer. Prefixes vary (env:, soap:, soapenv:, S:), so element
// names are compared without them; the fault code's own text (e.g. "env:Client") is kept as is.
import { XMLParser } from 'fast-xml-parser'

export interface SoapFault {
  /** faultcode text (SOAP 1.1) or Code/Value (SOAP 1.2); undefined when absent. */
  code?: string | undefined
  /** faultstring text (SOAP 1.1) or Reason/Text (SOAP 1.2); undefined when absent. */
  string?: string | undefined
}

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  // Keep every value a string: a fault code "500" must not become a number.
  parseTagValue: false,
  trimValues: true
})

/** Matches an opening Fault element with any prefix; a cheap gate before parsing. */
const FAULT_TAG = /<([A-Za-z_][\w.-]*:)?Fault[\s>/]/

/**
 * The fault carried by `body`, or undefined when the body is not a SOAP fault. A body that looks
 * like a fault but cannot be parsed (e.g. truncated) still counts, with code and string unknown.
 */
export function parseSoapFault(body: string): SoapFault | undefined {
  if (!FAULT_TAG.test(body)) return undefined
  let doc: unknown
  try {
    doc = parser.parse(body)
  } catch {
    return {}
  }
  const fault = path(doc, ['Envelope', 'Body', 'Fault']) ?? path(doc, ['Fault'])
  if (fault === undefined) return undefined
  return {
    code: text(path(fault, ['faultcode'])) ?? text(path(fault, ['Code', 'Value'])),
    string: text(path(fault, ['faultstring'])) ?? text(path(fault, ['Reason', 'Text']))
  }
}

function path(node: unknown, keys: string[]): unknown {
  let current = node
  for (const key of keys) {
    if (Array.isArray(current)) current = current[0]
    if (current === null || typeof current !== 'object' || !(key in current)) return undefined
    current = (current as Record<string, unknown>)[key]
  }
  return Array.isArray(current) ? current[0] : current
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const collapsed = value.replace(/\s+/g, ' ').trim()
  return collapsed === '' ? undefined : collapsed
}
