// The console's browser-facing rules: headers, cookie flags, what counts as HTTPS.
import type { FastifyHelmetOptions } from '@fastify/helmet'
import type { FastifyRequest } from 'fastify'
import type { Config } from '../config/types.js'

/** No script at all (the console works without JavaScript), styles only from our one stylesheet,
 *  forms only to ourselves, never inside a frame. */
export const HELMET_OPTIONS: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"]
    }
  },
  // The old header for browsers that predate frame-ancestors.
  frameguard: { action: 'deny' },
  // Same-origin pages only: no other site reads or embeds these.
  crossOriginResourcePolicy: { policy: 'same-origin' },
  referrerPolicy: { policy: 'no-referrer' }
}

/** HTTPS as the browser sees it: PUBLIC_URL says https, or the request came over TLS, directly
 *  or through a proxy TRUST_PROXY believes (X-Forwarded-Proto). Cookies are Secure then. */
export function servedOverHttps(config: Config, req: FastifyRequest): boolean {
  return config.publicUrl?.startsWith('https:') === true || req.protocol === 'https'
}

export interface CookieFlags {
  path: string
  httpOnly: true
  sameSite: 'strict'
  secure: boolean
}

export function cookieFlags(config: Config, req: FastifyRequest, path: string): CookieFlags {
  return { path, httpOnly: true, sameSite: 'strict', secure: servedOverHttps(config, req) }
}

/** What a CSRF token is bound to: the session, or (the login form) no session. Never empty:
 *  @fastify/csrf refuses an empty one. */
export function csrfUserInfo(req: FastifyRequest): string {
  return req.consoleSession ? `session:${req.consoleSession.id}` : 'no-session'
}
