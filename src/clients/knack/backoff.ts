// How long to wait before trying Knack again.

export interface BackoffPolicy {
  baseMs: number
  capMs: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 200, capMs: 5000 }

/** Capped exponential backoff with "equal jitter": half fixed, half random, so retries spread
 *  out but never shrink to nothing. `attempt` counts from 1. */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}

/** Longest single wait for a 429, whatever the Reset header says (a daily-limit Reset can be hours away). */
export const MAX_RATE_LIMIT_WAIT_MS = 60_000
/** Wait used when a 429 has no usable Reset header. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 1000

/** Time to wait after a 429 from `X-RateLimit-Reset` (epoch seconds). */
export function rateLimitWaitMs(resetHeader: string | undefined, now: number = Date.now()): number {
  const resetSeconds = resetHeader === undefined ? Number.NaN : Number(resetHeader.trim())
  if (!Number.isFinite(resetSeconds)) return DEFAULT_RATE_LIMIT_WAIT_MS
  const wait = resetSeconds * 1000 - now
  if (wait <= 0) return DEFAULT_RATE_LIMIT_WAIT_MS
  return Math.min(wait, MAX_RATE_LIMIT_WAIT_MS)
}
