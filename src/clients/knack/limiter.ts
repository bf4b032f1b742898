// A sliding-window rate limiter: at most `rate` grants in any window of `windowMs` (+ a margin
// that absorbs the jitter between "granted here" and "arrived at Knack"). Waiters are served in
// FIFO order by one pending timer that exists only while someone waits; nothing polls. Used one per Knack application id.

export interface RateLimiterOptions {
  /** Grants allowed per window. */
  rate: number
  /** Window length, 1000 ms for Knack. */
  windowMs?: number
  /** Added to the window so a grant never lands inside the server's window by a hair. */
  marginMs?: number
}

export interface RateLimiter {
  /** Resolves when a slot is granted (the grant counts from that moment); the value is the wait in ms. */
  acquire(): Promise<number>
  /** Hold every grant until this epoch time (ms), e.g. after a 429 told us when the window resets. */
  pauseUntil(epochMs: number): void
  /** Grants still waiting. */
  readonly pending: number
  /** Reject every waiter and clear the timer; later acquire() calls reject too. */
  close(): void
}

interface Waiter {
  since: number
  resolve: (waitedMs: number) => void
  reject: (err: Error) => void
}

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const rate = Math.floor(opts.rate)
  if (!Number.isFinite(rate) || rate < 1) throw new RangeError(`rate must be a positive integer, got ${opts.rate}`)
  const span = (opts.windowMs ?? 1000) + (opts.marginMs ?? 15)

  // Times of the last `rate` grants at most, oldest first.
  const granted: number[] = []
  const waiters: Waiter[] = []
  let pausedUntil = 0
  let timer: NodeJS.Timeout | undefined
  let closed = false

  /** When the next grant may happen, or `now` if it may happen at once. */
  function nextFreeAt(now: number): number {
    while (granted.length > 0 && (granted[0] as number) + span <= now) granted.shift()
    const byWindow = granted.length < rate ? now : (granted[0] as number) + span
    return Math.max(byWindow, pausedUntil, now)
  }

  function pump(): void {
    timer = undefined
    if (closed) return
    for (;;) {
      const waiter = waiters[0]
      if (!waiter) return
      const now = Date.now()
      const at = nextFreeAt(now)
      if (at > now) {
        // Kept ref'd on purpose: a CLI awaiting a grant must not exit early. The timer only
        // exists while someone waits, and close() clears it.
        timer = setTimeout(pump, at - now)
        return
      }
      waiters.shift()
      granted.push(now)
      waiter.resolve(now - waiter.since)
    }
  }

  return {
    acquire() {
      if (closed) return Promise.reject(new Error('rate limiter closed'))
      const now = Date.now()
      // Fast path only when nobody is queued, so late comers never overtake (FIFO).
      if (waiters.length === 0 && nextFreeAt(now) <= now) {
        granted.push(now)
        return Promise.resolve(0)
      }
      return new Promise<number>((resolve, reject) => {
        waiters.push({ since: now, resolve, reject })
        if (timer === undefined) pump()
      })
    },
    pauseUntil(epochMs) {
      if (epochMs <= pausedUntil) return
      pausedUntil = epochMs
      // A pending timer may fire earlier than the pause: pump() re-arms it for the right time.
    },
    get pending() {
      return waiters.length
    },
    close() {
      closed = true
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      const err = new Error('rate limiter closed')
      for (const w of waiters.splice(0)) w.reject(err)
    }
  }
}
