// How long a channel that failed is left alone: doubling from `baseMs` to `maxMs`, with ±20 %
// jitter so replicas and channels do not retry in step, never sooner than the channel's own
// Retry-After (capped).
export interface BackoffOptions {
  baseMs: number
  maxMs: number
  random?: () => number
}

const JITTER = 0.2
/** A Retry-After longer than this is not waited out in full (alerts are worth more early). */
const MAX_RETRY_AFTER_MS = 3_600_000

/** The wait after the `failures`-th failure in a row (1 = the first). */
export function backoffMs(failures: number, opts: BackoffOptions, retryAfterMs?: number): number {
  const random = opts.random ?? Math.random
  const exponent = Math.min(Math.max(failures, 1) - 1, 30)
  const plain = Math.min(opts.maxMs, opts.baseMs * 2 ** exponent)
  const jittered = plain * (1 - JITTER + 2 * JITTER * random())
  return Math.round(Math.max(jittered, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS)))
}
