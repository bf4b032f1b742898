// A sliding-window rate limiter: at most `rate` requests in any window of `windowMs`.
//
// A request holds its slot from the moment it is granted (sent) until one window (+ margin)
// after it is released (answered). Counting the window from the answer, not from the send,
// is what makes the guarantee hold at the server's end: the server counts a request when it
// arrives, which is somewhere between our send and our answer. Counting from the send alone
// breaks as soon as sends are delayed unevenly, e.g. the first burst opening new (TLS)
// connections while the next burst reuses warm ones; that put 19 requests into one of the
// simulator's windows. The cost is throughput: one slot serves once per (latency + window).
//
// Waiters are served in FIFO order by one timer that exists only while someone waits.

export interface RateLimiterOptions {
  /** Requests allowed per window. */
  rate: number
  /** Window length, 1000 ms for Knack. */
  windowMs?: number
  /** Added to the window to absorb clock granularity. */
  marginMs?: number
}

/** A granted slot. Call release() once the request is answered or has failed. */
export interface Permit {
  /** How long the caller waited for this grant, in ms. */
  readonly waitedMs: number
  release(): void
}

export interface RateLimiter {
  acquire(): Promise<Permit>
  /** Hold every grant until this epoch time (ms), e.g. after a 429 told us when the window resets. */
  pauseUntil(epochMs: number): void
  /** Callers still waiting for a grant. */
  readonly pending: number
  /** Reject every waiter and clear the timer; later acquire() calls reject too. */
  close(): void
}

interface Waiter {
  since: number
  resolve: (permit: Permit) => void
  reject: (err: Error) => void
}

interface Slot {
  /** Epoch ms when the slot frees; Infinity while its request is in flight. */
  until: number
}

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const rate = Math.floor(opts.rate)
  if (!Number.isFinite(rate) || rate < 1) throw new RangeError(`rate must be a positive integer, got ${opts.rate}`)
  const span = (opts.windowMs ?? 1000) + (opts.marginMs ?? 15)

  const slots: Slot[] = []
  const waiters: Waiter[] = []
  let pausedUntil = 0
  let timer: NodeJS.Timeout | undefined
  let closed = false

  /** When the next grant may happen: `now` if at once, Infinity if only a release can free a slot. */
  function nextFreeAt(now: number): number {
    for (let i = slots.length - 1; i >= 0; i--) if ((slots[i] as Slot).until <= now) slots.splice(i, 1)
    const bySlots = slots.length < rate ? now : Math.min(...slots.map((s) => s.until))
    return Math.max(bySlots, pausedUntil, now)
  }

  function grant(since: number, now: number): Permit {
    const slot: Slot = { until: Number.POSITIVE_INFINITY }
    slots.push(slot)
    let released = false
    return {
      waitedMs: now - since,
      release() {
        if (released) return
        released = true
        slot.until = Date.now() + span
        // The freed time may be earlier than what the timer waits for: re-plan.
        if (waiters.length > 0 && !closed) replan()
      }
    }
  }

  function replan(): void {
    if (timer !== undefined) clearTimeout(timer)
    pump()
  }

  function pump(): void {
    timer = undefined
    if (closed) return
    for (;;) {
      const waiter = waiters[0]
      if (!waiter) return
      const now = Date.now()
      const at = nextFreeAt(now)
      if (at === Number.POSITIVE_INFINITY) return // every slot is in flight: a release() re-plans
      if (at > now) {
        // Kept ref'd on purpose: a CLI awaiting a grant must not exit early. The timer only
        // exists while someone waits, and close() clears it.
        timer = setTimeout(pump, at - now)
        return
      }
      waiters.shift()
      waiter.resolve(grant(waiter.since, now))
    }
  }

  return {
    acquire() {
      if (closed) return Promise.reject(new Error('rate limiter closed'))
      const now = Date.now()
      // Fast path only when nobody is queued, so late comers never overtake (FIFO).
      if (waiters.length === 0 && nextFreeAt(now) <= now) return Promise.resolve(grant(now, now))
      return new Promise<Permit>((resolve, reject) => {
        waiters.push({ since: now, resolve, reject })
        if (timer === undefined) pump()
      })
    },
    pauseUntil(epochMs) {
      // pump() checks the pause each time it runs, and re-arms its timer for it.
      if (epochMs > pausedUntil) pausedUntil = epochMs
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
