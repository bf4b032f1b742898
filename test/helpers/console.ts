// A browser's part in the console tests without a browser: a cookie jar over Fastify's inject,
// forms posted as application/x-www-form-urlencoded with the CSRF token of the last page seen.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'

export interface ClientOptions {
  /** Headers every request carries (e.g. X-Forwarded-Proto). */
  headers?: Record<string, string>
  remoteAddress?: string
}

export interface ParsedCookie {
  name: string
  value: string
  /** Attribute names in lower case → value ('' for flags like HttpOnly). */
  attributes: Map<string, string>
}

export function parseSetCookie(header: string): ParsedCookie {
  const [pair = '', ...attrs] = header.split(';').map((p) => p.trim())
  const eq = pair.indexOf('=')
  const attributes = new Map<string, string>()
  for (const a of attrs) {
    const i = a.indexOf('=')
    attributes.set((i < 0 ? a : a.slice(0, i)).toLowerCase(), i < 0 ? '' : a.slice(i + 1))
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes }
}

export function setCookies(res: LightMyRequestResponse): ParsedCookie[] {
  const raw = res.headers['set-cookie']
  return (raw === undefined ? [] : [raw].flat()).map(parseSetCookie)
}

/** The CSRF token of the page's first form. */
export function csrfOf(html: string): string | undefined {
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1]
}

export class ConsoleClient {
  readonly jar = new Map<string, string>()
  /** The CSRF token of the last HTML page this client got. */
  csrf: string | undefined

  constructor(private readonly app: FastifyInstance, private readonly opts: ClientOptions = {}) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ')
    return { ...this.opts.headers, ...(cookie ? { cookie } : {}), ...extra }
  }

  private keep(res: LightMyRequestResponse): LightMyRequestResponse {
    for (const c of setCookies(res)) {
      const expired = c.attributes.get('max-age') === '0' || (c.attributes.has('expires') && Date.parse(c.attributes.get('expires') ?? '') < Date.now())
      if (expired || c.value === '') this.jar.delete(c.name)
      else this.jar.set(c.name, c.value)
    }
    if (String(res.headers['content-type'] ?? '').startsWith('text/html')) this.csrf = csrfOf(res.body) ?? this.csrf
    return res
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    return this.keep(await this.app.inject({ method: 'GET', url, headers: this.headers(), remoteAddress: this.opts.remoteAddress }))
  }

  /** POST a form; `_csrf` is the last page's token unless `fields` says otherwise (null: none). */
  async post(url: string, fields: Record<string, string | null> = {}): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams()
    const all: Record<string, string | null> = { _csrf: this.csrf ?? null, ...fields }
    for (const [k, v] of Object.entries(all)) if (v !== null) body.set(k, v)
    return this.keep(
      await this.app.inject({
        method: 'POST',
        url,
        headers: this.headers({ 'content-type': 'application/x-www-form-urlencoded' }),
        payload: body.toString(),
        remoteAddress: this.opts.remoteAddress
      })
    )
  }

  /** Open the login page and log in with `token`; returns the login POST's answer. */
  async login(token: string): Promise<LightMyRequestResponse> {
    await this.get('/console/login')
    return this.post('/console/login', { token })
  }
}
