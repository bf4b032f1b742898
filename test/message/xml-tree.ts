// Test helper: an XML document as the tree a receiver sees (element names, order, prefixes,
// namespace URIs, attributes, text), without layout, and the differences between two of them.
// Layout is the XML declaration, comments, and white-space-only text between elements;
// everything else counts, including white space inside a value.
import { XMLParser, XMLValidator } from 'fast-xml-parser'

export interface XmlElement {
  /** Qualified name as written: `soapenv:Envelope`, `emi`. */
  name: string
  prefix: string | null
  local: string
  /** The namespace URI the prefix (or the default namespace) is bound to there; null for none. */
  uri: string | null
  /** Namespace declarations made on this element: prefix ('' for the default) → URI. */
  declares: Record<string, string>
  /** Other attributes, by qualified name. */
  attributes: Record<string, string>
  /** Child elements (and any non-blank text between them), or the text of a leaf ('' when empty). */
  content: Array<XmlElement | { text: string }> | string
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true
})

type OrderedNode = Record<string, unknown>

function splitName(name: string): { prefix: string | null; local: string } {
  const i = name.indexOf(':')
  return i < 0 ? { prefix: null, local: name } : { prefix: name.slice(0, i), local: name.slice(i + 1) }
}

function toElement(name: string, node: OrderedNode, inScope: ReadonlyMap<string, string>): XmlElement {
  const rawAttributes = (node[':@'] ?? {}) as Record<string, string>
  const declares: Record<string, string> = {}
  const attributes: Record<string, string> = {}
  for (const [key, value] of Object.entries(rawAttributes)) {
    if (key === 'xmlns') declares[''] = value
    else if (key.startsWith('xmlns:')) declares[key.slice('xmlns:'.length)] = value
    else attributes[key] = value
  }
  const scope = new Map(inScope)
  for (const [prefix, uri] of Object.entries(declares)) scope.set(prefix, uri)
  const { prefix, local } = splitName(name)
  const uri = scope.get(prefix ?? '') ?? null
  if (prefix !== null && uri === null) throw new Error(`prefix "${prefix}" of <${name}> is not bound`)

  const children = node[name] as OrderedNode[]
  const elements: Array<XmlElement | { text: string }> = []
  let text = ''
  let hasElements = false
  for (const child of children) {
    if (typeof child['#text'] === 'string') {
      text += child['#text']
      elements.push({ text: child['#text'] })
      continue
    }
    const childName = Object.keys(child).find((k) => k !== ':@')
    if (childName === undefined) continue
    hasElements = true
    elements.push(toElement(childName, child, scope))
  }
  // Text between elements is layout when it is only white space; a leaf's text is its value.
  const content = hasElements ? mergeText(elements).filter((c) => !('text' in c) || c.text.trim() !== '') : text
  return { name, prefix, local, uri, declares, attributes, content }
}

/** Adjacent text nodes (split by a dropped comment) as one. */
function mergeText(nodes: Array<XmlElement | { text: string }>): Array<XmlElement | { text: string }> {
  const out: Array<XmlElement | { text: string }> = []
  for (const node of nodes) {
    const last = out[out.length - 1]
    if ('text' in node && last !== undefined && 'text' in last) out[out.length - 1] = { text: last.text + node.text }
    else out.push(node)
  }
  return out
}

/** The root element of a well-formed document. Throws for malformed XML or an unbound prefix. */
export function parseXmlTree(xml: string): XmlElement {
  const valid = XMLValidator.validate(xml)
  if (valid !== true) throw new Error(`Malformed XML: ${valid.err.msg} (line ${valid.err.line})`)
  const roots = (parser.parse(xml) as OrderedNode[]).filter((n) => typeof n['#text'] !== 'string' || n['#text'].trim() !== '')
  if (roots.length !== 1) throw new Error(`expected one root element, found ${roots.length}`)
  const root = roots[0] as OrderedNode
  const name = Object.keys(root).find((k) => k !== ':@')
  if (name === undefined) throw new Error('no root element')
  return toElement(name, root, new Map())
}

const show = (value: unknown): string => JSON.stringify(value)

/**
 * Every difference between two trees, each as `path: what differs` (empty when equal): names,
 * prefixes, namespace URIs and declarations, attributes, child order and count, and text.
 */
export function diffXmlTrees(ours: XmlElement, theirs: XmlElement, path = ''): string[] {
  const here = `${path}/${theirs.name}`
  const diffs: string[] = []
  if (ours.name !== theirs.name) return [`${here}: element ${show(ours.name)} where ${show(theirs.name)} was expected`]
  if (ours.uri !== theirs.uri) diffs.push(`${here}: namespace ${show(ours.uri)} where ${show(theirs.uri)} was expected`)
  if (show(sorted(ours.declares)) !== show(sorted(theirs.declares)))
    diffs.push(`${here}: declares ${show(sorted(ours.declares))} where ${show(sorted(theirs.declares))} was expected`)
  if (show(sorted(ours.attributes)) !== show(sorted(theirs.attributes)))
    diffs.push(`${here}: attributes ${show(sorted(ours.attributes))} where ${show(sorted(theirs.attributes))} was expected`)
  const a = ours.content
  const b = theirs.content
  if (typeof a === 'string' || typeof b === 'string') {
    if (typeof a !== typeof b) diffs.push(`${here}: ${typeof a === 'string' ? 'text' : 'elements'} where ${typeof b === 'string' ? 'text' : 'elements'} was expected`)
    else if (a !== b) diffs.push(`${here}: text ${show(a)} where ${show(b)} was expected`)
    return diffs
  }
  const names = (c: typeof a) => c.map((n) => ('text' in n ? '#text' : n.name))
  if (show(names(a)) !== show(names(b))) {
    diffs.push(`${here}: children ${show(names(a))} where ${show(names(b))} were expected`)
    return diffs
  }
  a.forEach((child, i) => {
    const other = b[i] as XmlElement | { text: string }
    if ('text' in child || 'text' in other) {
      if (show(child) !== show(other)) diffs.push(`${here}: text ${show(child)} where ${show(other)} was expected`)
    } else diffs.push(...diffXmlTrees(child, other, here))
  })
  return diffs
}

function sorted(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
}

/** The number of leaf values in a tree: how much a comparison really compared. */
export function leafCount(tree: XmlElement): number {
  if (typeof tree.content === 'string') return 1
  return tree.content.reduce((n, c) => n + ('text' in c ? 1 : leafCount(c)), 0)
}

/** The element at a path of local names below the root (`['Body', 'submitKnack', ...]`). */
export function elementAt(tree: XmlElement, path: readonly string[]): XmlElement {
  let node = tree
  for (const local of path) {
    if (typeof node.content === 'string') throw new Error(`<${node.name}> has no children`)
    const next = node.content.find((c): c is XmlElement => !('text' in c) && c.local === local)
    if (next === undefined) throw new Error(`<${node.name}> has no <${local}>`)
    node = next
  }
  return node
}
