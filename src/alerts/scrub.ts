// No secret ever leaves in an alert. Everything an alert shows comes from events and the ledger,
// and some of it is text other systems wrote (an ESB error, Knack's message), which could echo a
// credential; so every rendered string is searched for every secret the configuration holds.
import type { Config } from '../config/types.js'

export const REDACTED = '[redacted]'
/** Shorter values would blank out ordinary words; every real secret here is longer. */
const MIN_SECRET_LENGTH = 6
/** A path segment or query value of a webhook URL this long is a token (not "services", "invoke"). */
const TOKEN_LENGTH = 16

export type Scrub = (text: string) => string

/** Every secret value in the configuration, and the parts of secret URLs that are secret. */
export function secretsOf(config: Config): string[] {
  const found: Array<string | undefined> = [
    config.webhookSecret,
    config.adminToken,
    ...config.operators.map((o) => o.token),
    config.esb.username,
    config.esb.password,
    config.esb.key,
    ...pemLines(config.esb.key),
    ...urlSecrets(config.alerts.slackUrl, true),
    ...urlSecrets(config.alerts.teamsUrl, true),
    ...urlSecrets(config.alerts.webhookUrl, true),
    ...urlSecrets(config.alerts.email?.smtpUrl, false),
    ...urlSecrets(config.databaseUrl, false)
  ]
  for (const app of config.apps.values()) found.push(app.credentials.appId, app.credentials.apiKey)
  return [...new Set(found.filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH))]
}

/** A private key leaks a line at a time as easily as whole: each base64 line is a secret. */
function pemLines(pem: string): string[] {
  return pem
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length >= TOKEN_LENGTH && !l.startsWith('-----'))
}

/** A webhook URL is its own credential (Slack's, Teams'): the whole URL, its path and query are
 *  secret. Other URLs carry a password at most. */
function urlSecrets(text: string | undefined, wholeUrl: boolean): string[] {
  if (!text) return []
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return [text]
  }
  const out = [url.password, safeDecode(url.password)]
  if (wholeUrl) {
    // The token parts: Slack's last path segment, Teams' `sig`; not words like "triggers".
    const tokens = [...url.pathname.split('/'), ...[...url.searchParams.values()]].filter((s) => s.length >= TOKEN_LENGTH)
    out.push(text, url.href, url.pathname + url.search, url.search.slice(1), ...tokens, ...tokens.map(encodeURIComponent))
  }
  return out
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

export function createScrub(secrets: readonly string[]): Scrub {
  // Longest first, so a secret that contains another is replaced whole.
  const ordered = [...new Set(secrets)].filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length)
  if (ordered.length === 0) return (text) => text
  return (text) => {
    let out = text
    for (const secret of ordered) if (out.includes(secret)) out = out.split(secret).join(REDACTED)
    return out
  }
}

/** `value` with every string in it scrubbed (objects and arrays copied, never changed in place). */
export function scrubDeep<T>(value: T, scrub: Scrub): T {
  if (typeof value === 'string') return scrub(value) as T
  if (Array.isArray(value)) return value.map((v: unknown) => scrubDeep(v, scrub)) as T
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrub(k), scrubDeep(v, scrub)])) as T
  }
  return value
}
