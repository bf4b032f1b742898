// The SOAP 1.1 envelope the ESB takes (reference/esb-message.md). Values only ever pass through
// the XML builder, which escapes each exactly once; no string templates around values.
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser'
import { toAsciiText } from './text.js'

export const SOAPENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/'
export const ACC_NS = 'http://www.austintexas.gov/AcceptKnack/'
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

/** Constant header values, in their order after emi and timestamp. */
export const HEADER_CONSTANTS = { source: 'KNACK', target: 'CSR', data_type: 'CSR', event: 'UPDATE' } as const
export const HEADER_ELEMENTS = ['emi', 'timestamp', 'source', 'target', 'data_type', 'event'] as const
export const CSR_ELEMENTS = [
  'id',
  'csr_activity_id',
  'sr_number',
  'issue_status_code',
  'activity_type_code',
  'activity_details',
  'outcome_code',
  'activity_date'
] as const
export type HeaderElement = (typeof HEADER_ELEMENTS)[number]
export type CsrElement = (typeof CSR_ELEMENTS)[number]

/** What varies per message. Missing/null values become empty elements. */
export interface EnvelopeInput {
  emi: string | null | undefined
  /** Time of publication as the legacy wrote it (publicationTimestamp): UTC, microseconds. */
  timestamp: string
  csr: Record<CsrElement, string | null | undefined>
}

/** Every value of an envelope as text ('' for an empty element). */
export interface EnvelopeValues {
  header: Record<HeaderElement, string>
  csr: Record<CsrElement, string>
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  format: false,
  suppressEmptyNode: false,
  processEntities: true
})

const text = (value: string | null | undefined): string => (value === null || value === undefined ? '' : toAsciiText(value))

/** The envelope as an ASCII string starting with the XML declaration. */
export function buildEnvelope(input: EnvelopeInput): string {
  const header: Record<string, string> = { emi: text(input.emi), timestamp: text(input.timestamp) }
  for (const [k, v] of Object.entries(HEADER_CONSTANTS)) header[k] = v
  const csr: Record<string, string> = {}
  for (const k of CSR_ELEMENTS) csr[k] = text(input.csr[k])
  const body = builder.build({
    'soapenv:Envelope': {
      '@_xmlns:soapenv': SOAPENV_NS,
      '@_xmlns:acc': ACC_NS,
      'soapenv:Header': '',
      'soapenv:Body': { 'acc:submitKnack': { header, data: { csr } } }
    }
  }) as string
  return XML_DECLARATION + body
}

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false
})

function child(node: unknown, name: string, path: string): unknown {
  if (typeof node !== 'object' || node === null || !Object.hasOwn(node, name)) throw new Error(`Envelope has no ${path}`)
  return (node as Record<string, unknown>)[name]
}

function leaf(node: unknown, name: string, path: string): string {
  const value = child(node, name, `${path}/${name}`)
  if (typeof value !== 'string') throw new Error(`Envelope's ${path}/${name} is not a single text element`)
  return value
}

/**
 * The values of a submitKnack envelope, entities decoded once, kept as strings (no number
 * parsing, no trimming; XML line-end handling turns \r\n and \r into \n). Namespace prefixes are
 * ignored. Throws an Error naming the problem for malformed XML or a missing element.
 */
export function parseEnvelope(xml: string): EnvelopeValues {
  const valid = XMLValidator.validate(xml)
  if (valid !== true) throw new Error(`Malformed XML: ${valid.err.msg} (line ${valid.err.line})`)
  const doc: unknown = parser.parse(xml)
  const submit = child(child(child(doc, 'Envelope', 'Envelope'), 'Body', 'Envelope/Body'), 'submitKnack', 'Body/submitKnack')
  const headerNode = child(submit, 'header', 'submitKnack/header')
  const csrNode = child(child(submit, 'data', 'submitKnack/data'), 'csr', 'data/csr')
  const header = {} as Record<HeaderElement, string>
  for (const k of HEADER_ELEMENTS) header[k] = leaf(headerNode, k, 'header')
  const csr = {} as Record<CsrElement, string>
  for (const k of CSR_ELEMENTS) csr[k] = leaf(csrNode, k, 'csr')
  return { header, csr }
}
