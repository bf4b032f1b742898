// One Knack HTTP exchange with everything around it: the per-app rate limiter, the 429 wait,
// retries with backoff for 5xx/408/network errors, a per-attempt timeout, metrics hooks, and
// errors that name the method and path but never the API key.
import { setMaxListeners } from 'node:events'
import { Pool } from 'undici'
import type { Logger } from 'pino'
import type { KnackCredentials } from '../../config/types.js'
import { knackError, type KnackFailure } from '../../errors.js'
import { createRateLimiter, type Permit, type RateLimiter, type WindowSeen } from './limiter.js'
import { createSendTap } from './send-tap.js'
import { knackMessages } from './error-messages.js'
import { backoffDelay, rateLimitWaitMs, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js'
import type { KnackObserver } from './observer.js'

export interface TransportOptions {
  baseUrl: string
  /** Requests per second per Knack application id. */
  rateLimit: number
  timeoutMs: number
  maxRetries: number
  /** 429s waited out per call before giving up (retryable). */
  maxRateLimitWaits: number
  logger?: Logger | undefined
  observe?: KnackObserver | undefined
  backoff?: BackoffPolicy | undefined
  /** Extra ms added to the 1000 ms window for clock granularity (see limiter.ts). Default 5. */
  windowMarginMs?: number | undefined
  /** How much later one request can reach Knack than another written at the same moment
   *  (the spread of the network's one-way time; KNACK_ARRIVAL_SPREAD). Default 20. */
  arrivalSpreadMs?: number | undefined
  /** The limiter of one Knack app; default the in-process one (limiter.ts). PostgreSQL passes
   *  one shared by every replica (shared-limiter.ts). */
  limiterFor?: ((appId: string, rate: number) => RateLimiter) | undefined
}

export interface KnackRequest {
  credentials: KnackCredentials
  method: 'GET' | 'PUT'
  /** Route template for logs and metrics, e.g. `/objects/:obj/records/:id`. */
  route: string
  /** Path below the base URL, segments already encoded. */
  path: string
  query?: Record<string, string> | undefined
  body?: unknown
}

export interface KnackTransport {
  /** The parsed JSON body of a 2xx answer (null when empty). */
  send(req: KnackRequest): Promise<unknown>
  close(): Promise<void>
}

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

class AttemptTimeout extends Error {}

export function createKnackTransport(opts: TransportOptions): KnackTransport {
  const base = new URL(opts.baseUrl)
  const prefix = base.pathname.replace(/\/+$/, '')
  // One pool for the origin; unlimited connections so a granted request is never queued behind
  // another (queueing after the limiter would bunch requests up at Knack's end).
  const pool = new Pool(base.origin, { keepAliveTimeout: 10_000 })
  const limiters = new Map<string, RateLimiter>()
  // Tells each permit when its request was written: the limiter counts from there.
  const tap = createSendTap()
  const closing = new AbortController()
  // Every in-flight request and retry sleep listens for close(): more than the default 10 is normal.
  setMaxListeners(0, closing.signal)
  const backoff = opts.backoff ?? DEFAULT_BACKOFF
  const observe = opts.observe
  const log = opts.logger

  function limiterFor(appId: string): RateLimiter {
    let limiter = limiters.get(appId)
    if (!limiter) {
      limiter = opts.limiterFor
        ? opts.limiterFor(appId, opts.rateLimit)
        : createRateLimiter({ rate: opts.rateLimit, windowMs: 1000, marginMs: opts.windowMarginMs ?? 5, arrivalSpreadMs: opts.arrivalSpreadMs ?? 20 })
      limiters.set(appId, limiter)
    }
    return limiter
  }

  function notify(fn: () => void): void {
    try {
      fn()
    } catch (err) {
      log?.warn({ err }, 'knack observer threw')
    }
  }

  async function exchange(req: KnackRequest, permit: Permit): Promise<Answer> {
    const query = req.query ? `?${new URLSearchParams(req.query).toString()}` : ''
    const attempt = new AbortController()
    const onClose = (): void => attempt.abort()
    closing.signal.addEventListener('abort', onClose, { once: true })
    const timer = setTimeout(() => attempt.abort(new AttemptTimeout(`timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs)
    try {
      const onSent = (atMs: number | null): void => permit.sent?.(atMs)
      const res = await tap.track(onSent, () => pool.request({
        method: req.method,
        path: `${prefix}${req.path}${query}`,
        headers: {
          'x-knack-application-id': req.credentials.appId,
          'x-knack-rest-api-key': req.credentials.apiKey,
          accept: 'application/json',
          ...(req.body === undefined ? {} : { 'content-type': 'application/json' })
        },
        body: req.body === undefined ? null : JSON.stringify(req.body),
        signal: attempt.signal
      }))
      // Read the whole body inside the timeout so a stalled body also times out.
      const text = await res.body.text()
      return { status: res.statusCode, headers: res.headers, text }
    } catch (err) {
      if (attempt.signal.reason instanceof AttemptTimeout) throw attempt.signal.reason
      throw err
    } finally {
      clearTimeout(timer)
      closing.signal.removeEventListener('abort', onClose)
    }
  }

  /** Sleep that ends early (rejecting) when the client closes. */
  function sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (closing.signal.aborted) return reject(new Error('Knack client closed'))
      const onAbort = (): void => {
        clearTimeout(timer)
        reject(new Error('Knack client closed'))
      }
      const timer = setTimeout(() => {
        closing.signal.removeEventListener('abort', onAbort)
        resolve()
      }, ms)
      closing.signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  async function send(req: KnackRequest): Promise<unknown> {
    const { appId, apiKey } = req.credentials
    const what = `Knack ${req.method} ${req.path}`
    // Belt and braces: nothing we build contains the key, but a message quoting a header would.
    const redact = (text: string): string => (apiKey.length >= 4 ? text.split(apiKey).join('[redacted]') : text)
    const fail = (message: string, failure: KnackFailure): Error =>
      knackError(redact(message), { ...failure, messages: failure.messages.map(redact) })
    const limiter = limiterFor(appId)
    let failures = 0
    let rateLimitWaits = 0

    for (;;) {
      if (closing.signal.aborted) throw fail(`${what}: client closed`, { retryable: true, messages: [] })
      const permit = await limiter.acquire().catch(() => {
        throw fail(`${what}: client closed`, { retryable: true, messages: [] })
      })
      notify(() => observe?.limiterWait?.(appId, permit.waitedMs))
      const started = performance.now()

      let answer: Answer
      try {
        answer = await exchange(req, permit)
      } catch (err) {
        permit.release()
        const seconds = (performance.now() - started) / 1000
        notify(() => observe?.request?.(req.method, req.route, 'error', seconds))
        const reason = err instanceof Error ? err.message : String(err)
        if (closing.signal.aborted) throw fail(`${what}: client closed`, { retryable: true, messages: [] })
        if (failures < opts.maxRetries) {
          failures++
          const waitMs = backoffDelay(failures, backoff)
          log?.warn({ method: req.method, path: req.path, reason, attempt: failures, waitMs }, 'knack request failed; retrying')
          await sleep(waitMs).catch(() => undefined)
          continue
        }
        throw fail(`${what} failed after ${failures + 1} attempts: ${reason}`, { retryable: true, messages: [] })
      }

      // The answer is in; the slot was counted from the write, and Knack's own count may teach more.
      permit.release(windowSeen(answer))
      const seconds = (performance.now() - started) / 1000
      const { status } = answer
      notify(() => observe?.request?.(req.method, req.route, status, seconds))
      const planRemaining = Number(header(answer, 'x-planlimit-remaining'))
      if (header(answer, 'x-planlimit-remaining') !== undefined && Number.isFinite(planRemaining)) {
        notify(() => observe?.planRemaining?.(appId, planRemaining))
      }
      log?.debug({ method: req.method, route: req.route, status, ms: Math.round(seconds * 1000) }, 'knack request')

      if (status >= 200 && status < 300) return parseJson(answer.text, () => fail(`${what} answered ${status} with a body that is not JSON`, { status, retryable: true, messages: [] }))

      const messages = knackMessages(parseJsonOrNull(answer.text))
      const detail = messages.length > 0 ? `: ${messages.join('; ')}` : ''

      if (status === 429) {
        notify(() => observe?.rateLimited?.(appId))
        if (header(answer, 'x-planlimit-remaining') !== undefined && planRemaining <= 0) {
          // The daily plan limit, not the per-second one: waiting minutes would not help.
          throw fail(`${what} answered 429: the daily plan limit is used up${detail}`, { status, retryable: true, messages })
        }
        if (rateLimitWaits >= opts.maxRateLimitWaits) {
          throw fail(`${what} answered 429 ${rateLimitWaits + 1} times in a row${detail}`, { status, retryable: true, messages })
        }
        rateLimitWaits++
        const waitMs = rateLimitWaitMs(header(answer, 'x-ratelimit-reset'))
        log?.warn({ method: req.method, path: req.path, appId, waitMs }, 'knack rate limit hit; waiting for the window to reset')
        // Every request of this app waits, not just this one: the limiter holds all grants.
        limiter.pauseUntil(Date.now() + waitMs)
        continue
      }

      if (status >= 500 || status === 408) {
        if (failures < opts.maxRetries) {
          failures++
          const waitMs = backoffDelay(failures, backoff)
          log?.warn({ method: req.method, path: req.path, status, attempt: failures, waitMs }, 'knack request failed; retrying')
          await sleep(waitMs).catch(() => undefined)
          continue
        }
        throw fail(`${what} answered ${status} after ${failures + 1} attempts${detail}`, { status, retryable: true, messages })
      }

      throw fail(`${what} answered ${status}${detail}`, { status, retryable: false, messages })
    }
  }

  let closed: Promise<void> | undefined
  return {
    send,
    close() {
      // Idempotent: the service and its tests may both close the client.
      closed ??= (async () => {
        closing.abort()
        for (const limiter of limiters.values()) limiter.close()
        limiters.clear()
        tap.close()
        await pool.close()
      })()
      return closed
    }
  }
}

function header(answer: Answer, name: string): string | undefined {
  const value = answer.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** X-RateLimit-Remaining and -Reset (epoch seconds), when Knack sent both and they are numbers. */
function windowSeen(answer: Answer): WindowSeen | undefined {
  const remaining = Number(header(answer, 'x-ratelimit-remaining') ?? Number.NaN)
  const resetSeconds = Number(header(answer, 'x-ratelimit-reset') ?? Number.NaN)
  if (!Number.isFinite(remaining) || !Number.isFinite(resetSeconds)) return undefined
  return { remaining, resetAtMs: resetSeconds * 1000 }
}

function parseJsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return null
  }
}

function parseJson(text: string, onError: () => Error): unknown {
  if (text.trim() === '') return null
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw onError()
  }
}
