// A sliding-window rate limiter: at most `rate` requests in any window of `windowMs`, counted
// where Knack counts them — when a request arrives at Knack.
//
// We cannot see that arrival, but we can see the moment the request is written to the socket
// (the transport reports it through Permit.sent()), and the arrival follows it by the network's
// one-way time. That time varies: a request may arrive up to `arrivalSpreadMs` later than
// another one written at the same moment. So a slot is held from the write for
// window + arrival spread + margin: if request A and the request B that reuses A's slot are
// written W + spread + margin apart, B arrives at least W + margin after A however the network
// delays them, and Knack never sees more than `rate` in one window. Per window the limiter
// leaves the spread unused: the best it can do is W / (W + spread + margin) of Knack's bound.
//
// Until the write is known the slot counts as in flight (it frees at no time). A request
// released without a known write (it failed before reaching a socket, the transport could not
// see the write, or it went out on a new connection whose far end may still be setting it up:
// sent(null)) is counted from its release instead: later than any arrival it could have had.
// Counting from the answer for every request (what this limiter did before) also holds, but
// costs the whole latency per slot: 77 % of the bound at 300 ms. Counting from the grant breaks
// when writes are delayed unevenly (a new TLS connection before one request, a warm one for the
// next): that put 19 requests into one of the simulator's windows.
//
// What Knack answers is used too (release(seen)): when Knack says the window is full while our
// own requests cannot fill it, something else is using this app's budget (another integration,
// another replica), and every grant waits for Knack's reset. A 429 pauses grants at once
// (pauseUntil, from the transport).
//
// Waiters are served in FIFO order by one timer that exists only while someone waits.

export interface RateLimiterOptions {
  /** Requests allowed per window. */
  rate: number
  /** Window length, 1000 ms for Knack. */
  windowMs?: number
  /** Added to the window to absorb clock granularity and timer lateness. Default 5 ms. */
  marginMs?: number
  /** How much later one request can reach Knack than another written at the same moment. Default 20 ms. */
  arrivalSpreadMs?: number
}

/** What Knack's answer said about its window (X-RateLimit-Remaining / -Reset). */
export interface WindowSeen {
  /** Requests Knack would still take in its window when it counted this one. */
  remaining: number
  /** Epoch ms when Knack's window has room again. */
  resetAtMs: number
}

/** A granted slot. Call release() once the request is answered or has failed. */
export interface Permit {
  /** How long the caller waited for this grant, in ms. */
  readonly waitedMs: number
  /** The request was written to the socket at this epoch time (default now); null: it was
   *  written (again) where its arrival cannot be bounded, e.g. on a new connection, so it counts
   *  from its release. Optional: a limiter that does not count from the write may leave it out;
   *  callers use `permit.sent?.()`. */
  sent?(atMs?: number | null): void
  /** `seen`: what Knack's answer said about its window, when it said anything. */
  release(seen?: WindowSeen): void
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
  /** Epoch ms when the slot frees; Infinity while its request is in flight and its write unknown. */
  until: number
}

/** One of our requests as Knack may have counted it: written no earlier than `from`, no later than `to`. */
interface Sent {
  from: number
  to: number
}

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const rate = Math.floor(opts.rate)
  if (!Number.isFinite(rate) || rate < 1) throw new RangeError(`rate must be a positive integer, got ${opts.rate}`)
  const windowMs = opts.windowMs ?? 1000
  const spreadMs = Math.max(0, opts.arrivalSpreadMs ?? 20)
  const span = windowMs + spreadMs + Math.max(0, opts.marginMs ?? 5)
  /** Bound on the history kept for release(seen): enough for two windows at the full rate. */
  const historyCap = rate * 4 + 64

  const slots: Slot[] = []
  const waiters: Waiter[] = []
  /** Our recent requests, oldest first, to compare with Knack's own count. */
  const history: Sent[] = []
  let pausedUntil = 0
  let timer: NodeJS.Timeout | undefined
  let closed = false

  /** When the next grant may happen: `now` if at once, Infinity if only a write or release can free a slot. */
  function nextFreeAt(now: number): number {
    for (let i = slots.length - 1; i >= 0; i--) if ((slots[i] as Slot).until <= now) slots.splice(i, 1)
    let bySlots = now
    if (slots.length >= rate) {
      bySlots = Number.POSITIVE_INFINITY
      for (const s of slots) if (s.until < bySlots) bySlots = s.until
    }
    return Math.max(bySlots, pausedUntil, now)
  }

  /** How many of our requests Knack can have counted in the window that ended at the arrival of
   *  one written at `at`: those that may have been written in [at - window - spread, at + spread]. */
  function oursAround(at: number): number {
    let n = 0
    for (const h of history) if (h.to >= at - windowMs - spreadMs && h.from <= at + spreadMs) n++
    return n
  }

  function learn(seen: WindowSeen, sentAt: number): void {
    // remaining 0 says Knack counted `rate` (or more) requests; fewer of them can be ours only
    // when someone else spends this app's budget too: wait for Knack's reset.
    if (seen.remaining <= 0 && oursAround(sentAt) < rate && Number.isFinite(seen.resetAtMs)) pauseUntil(seen.resetAtMs)
  }

  function grant(since: number, now: number): Permit {
    const slot: Slot = { until: Number.POSITIVE_INFINITY }
    slots.push(slot)
    const record: Sent = { from: now, to: Number.POSITIVE_INFINITY }
    history.push(record)
    if (history.length > historyCap) history.splice(0, history.length - historyCap)
    let written: number | undefined
    let released = false
    return {
      waitedMs: now - since,
      sent(atMs) {
        if (released) return
        if (atMs === null) {
          // E.g. undici retrying on a new connection after the old one closed: any earlier write no longer bounds the arrival.
          written = undefined
          record.to = Number.POSITIVE_INFINITY
          slot.until = Number.POSITIVE_INFINITY
          return
        }
        // A second write (a retry on a new socket inside the HTTP client) counts from the later one.
        written = Math.max(atMs ?? Date.now(), written ?? 0)
        record.from = written
        record.to = written
        slot.until = written + span
        if (waiters.length > 0 && !closed) replan()
      },
      release(seen) {
        if (released) return
        released = true
        const now = Date.now()
        if (written === undefined) {
          slot.until = now + span
          record.to = now
        }
        if (seen) learn(seen, written ?? now)
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
      if (at === Number.POSITIVE_INFINITY) return // every slot is in flight: a sent() or release() re-plans
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

  function pauseUntil(epochMs: number): void {
    if (epochMs <= pausedUntil) return
    pausedUntil = epochMs
    // A timer armed for an earlier slot would grant inside the pause only to re-arm; pump()
    // checks the pause each time it runs, so nothing more is needed here.
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
    pauseUntil,
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
