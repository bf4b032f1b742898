// The checks the City's ESB makes of a message before it takes it (reference/esb-message.md): XML
// content type, ASCII only, well-formed, the SOAP envelope and acc:submitKnack with its header and
// data/csr, in those namespaces whatever the prefixes. The ESB simulator answers a message that
// fails them with an env:Client fault; tests use it to read what was sent.
import { XMLParser, XMLValidator } from 'fast-xml-parser'

export const SOAPENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/'
export const ACC_NS = 'http://www.austintexas.gov/AcceptKnack/'

export type Inspection = { ok: true; xml: string; values: Record<string, string> } | { ok: false; problem: string }

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
