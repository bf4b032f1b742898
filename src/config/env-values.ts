// Parsers for the environment values that are more than a duration or a URL: the operator
// token list, e-mail address lists, the digest's time of day, the trusted proxies and the Knack
// arrival spread. Each throws a plain Error whose message reads after the variable's name, and
// never repeats a token.
import { isIP } from 'node:net'
import { parseDuration } from './duration.js'

/** One person allowed into the admin routes and the console. "admin" is ADMIN_TOKEN's holder. */
export interface Operator {
  name: string
  token: string
}

/** Fastify's trustProxy: false (believe no X-Forwarded-* header), true (believe any: only when
 *  nothing but the proxy can reach the service), or the proxies' addresses. (Fastify 5 refuses
 *  a bare hop count: it cannot tell a proxy from a client claiming hops, so none is offered.) */
export type TrustProxy = boolean | string[]

export interface DigestAt {
  hour: number
  minute: number
}

const OPERATOR_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/
/** What a token must at least be: a short one can be guessed through the login form's rate limit. */
const MIN_TOKEN_LENGTH = 12

/** `ana:tok1,ben:tok2` → [{name: 'ana', token: 'tok1'}, …]. Names and tokens are unique, and
 *  no token equals ADMIN_TOKEN (actions are recorded under the token's one holder). */
export function parseOperatorTokens(text: string, adminToken: string | undefined): Operator[] {
  const operators: Operator[] = []
  const items = text.split(',').map((item) => item.trim())
  items.forEach((item, i) => {
    const where = items.length > 1 ? `item ${i + 1}: ` : ''
    const colon = item.indexOf(':')
    if (colon <= 0) throw new Error(`${where}is not name:token`)
    const name = item.slice(0, colon).trim()
    const token = item.slice(colon + 1).trim()
    if (!OPERATOR_NAME.test(name)) throw new Error(`${where}the name ${JSON.stringify(name)} may hold only letters, digits, . _ @ - (at most 64)`)
    if (name.toLowerCase() === 'admin') throw new Error(`${where}the name "admin" is ADMIN_TOKEN's; choose another`)
    if (token.length < MIN_TOKEN_LENGTH) throw new Error(`${where}the token of ${name} is shorter than ${MIN_TOKEN_LENGTH} characters`)
    if (operators.some((o) => o.name.toLowerCase() === name.toLowerCase())) throw new Error(`${where}the name ${name} is given twice`)
    if (operators.some((o) => o.token === token)) throw new Error(`${where}the token of ${name} is also another operator's`)
    if (adminToken !== undefined && token === adminToken) throw new Error(`${where}the token of ${name} is ADMIN_TOKEN's`)
    operators.push({ name, token })
  })
  return operators
}

/** A plain address check: something@host.tld, no spaces or angle brackets (nodemailer does the rest). */
const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/

/** `a@x.org, b@x.org` → ['a@x.org', 'b@x.org']. */
export function parseEmailList(text: string): string[] {
  const items = text.split(',').map((item) => item.trim())
  if (items.every((item) => item === '')) throw new Error('holds no e-mail address')
  return items.map((item, i) => {
    if (!EMAIL.test(item)) throw new Error(`${items.length > 1 ? `item ${i + 1}: ` : ''}${JSON.stringify(item)} is not an e-mail address`)
    return item
  })
}

/** `07:00` → {hour: 7, minute: 0}; 24-hour clock. */
export function parseDigestAt(text: string): DigestAt {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim())
  if (m === null) throw new Error(`${JSON.stringify(text)} is not a time of day (HH:MM, 24-hour, e.g. 07:00)`)
  return { hour: Number(m[1]), minute: Number(m[2]) }
}

/** Most the arrival spread may be: the limiter holds it on top of every 1 s window, so a second
 *  would halve the rate; a spread that large means the network, not the limiter, needs fixing. */
const MAX_ARRIVAL_SPREAD_MS = 500

/** KNACK_ARRIVAL_SPREAD: `20ms`, `0ms` … `500ms` (a duration; zero allowed). */
export function parseArrivalSpread(text: string): number {
  const ms = parseDuration(text)
  if (ms > MAX_ARRIVAL_SPREAD_MS) throw new Error(`${JSON.stringify(text)} is more than ${MAX_ARRIVAL_SPREAD_MS}ms (it is added to every 1 s window)`)
  return ms
}

/** proxy-addr's names for address ranges, accepted beside addresses and CIDR blocks. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/** `false` | `true` | `10.0.0.5,10.1.0.0/16,loopback`. */
export function parseTrustProxy(text: string): TrustProxy {
  const value = text.trim().toLowerCase()
  if (value === 'false' || value === 'off') return false
  if (value === 'true') return true
  const items = value.split(',').map((item) => item.trim())
  for (const item of items) {
    if (!PROXY_RANGES.has(item) && !isAddressOrBlock(item)) {
      throw new Error(`${JSON.stringify(item)} is not true, false, an IP address, a CIDR block, loopback, linklocal or uniquelocal`)
    }
  }
  return items
}

function isAddressOrBlock(item: string): boolean {
  const [address = '', bits, ...rest] = item.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (bits === undefined) return true
  return /^[0-9]{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)
}
