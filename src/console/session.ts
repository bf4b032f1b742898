// Console logins. The browser holds a random token in an HttpOnly, SameSite=Strict cookie; the
// ledger holds its sha256 with the operator's name, so sessions survive a restart and are shared
// by replicas, and logging out ends one for good. A session also ends when it is idle too long,
// when it is too old, or when its operator's token changes or is removed.
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Operator } from '../config/types.js'
import type { ConsoleSession, Ledger, SessionLimits } from '../ledger/types.js'

export const SESSION_COOKIE = 'knack311_session'

export const SESSION_LIMITS: SessionLimits = {
  idleMs: 30 * 60_000,
  maxAgeMs: 12 * 3_600_000,
  touchAfterMs: 60_000
}

/** The console's keys, derived from ADMIN_TOKEN (HKDF-SHA256, one per purpose): no new variable,
 *  the same on every replica and after a restart, and a new ADMIN_TOKEN ends every session. */
export interface ConsoleKeys {
  /** Signs the CSRF secret's cookie. */
  cookie: Buffer
  /** Binds CSRF tokens to the session. */
  csrf: Buffer
  /** Fingerprints the operator's token in the session row. */
  fingerprint: Buffer
}

export function deriveKeys(adminToken: string): ConsoleKeys {
  const key = (purpose: string) => Buffer.from(hkdfSync('sha256', adminToken, 'knack311', `console ${purpose}`, 32))
  return { cookie: key('cookie signing'), csrf: key('csrf'), fingerprint: key('session fingerprint') }
}

export interface Sessions {
  /** A new session for this operator: returns the cookie's token (shown to nobody else). */
  start(operator: Operator): Promise<string>
  /** The live session the cookie's token opens, or undefined. */
  resume(token: string | undefined): Promise<ConsoleSession | undefined>
  end(token: string | undefined): Promise<void>
}

export interface SessionDeps {
  ledger: Ledger
  operators: readonly Operator[]
  keys: ConsoleKeys
  clock: () => Date
  limits?: SessionLimits
}

const idOf = (token: string) => createHash('sha256').update(token).digest('hex')

/** Cookie tokens are 32 random bytes, base64url: 43 characters. Anything else is not one. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/

export function createSessions(deps: SessionDeps): Sessions {
  const limits = deps.limits ?? SESSION_LIMITS
  const fingerprint = (token: string) => createHmac('sha256', deps.keys.fingerprint).update(token).digest('hex')

  /** The operator still exists under that name, with the token the session was opened with. */
  function stillValid(s: ConsoleSession): boolean {
    const operator = deps.operators.find((o) => o.name === s.operator)
    if (!operator) return false
    const now = Buffer.from(fingerprint(operator.token))
    const then = Buffer.from(s.fingerprint)
    return now.length === then.length && timingSafeEqual(now, then)
  }

  return {
    async start(operator) {
      const token = randomBytes(32).toString('base64url')
      const now = deps.clock()
      await deps.ledger.createSession({ id: idOf(token), operator: operator.name, fingerprint: fingerprint(operator.token), createdAt: now, seenAt: now }, limits)
      return token
    },
    async resume(token) {
      if (token === undefined || !TOKEN_SHAPE.test(token)) return undefined
      const s = await deps.ledger.session(idOf(token), deps.clock(), limits)
      return s && stillValid(s) ? s : undefined
    },
    async end(token) {
      if (token !== undefined && TOKEN_SHAPE.test(token)) await deps.ledger.deleteSession(idOf(token))
    }
  }
}
