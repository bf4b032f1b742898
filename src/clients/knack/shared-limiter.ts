// A rate limiter whose slots live in a store shared by every replica (rate-slots.ts), so
// KNACK_RATE_LIMIT is the limit of all replicas together, not of each.
//
// A slot is held from its grant for one window plus the spread of the way to Knack plus a
// margin: a request sent at once after its grant reaches Knack within `arrivalSpreadMs`, so two
// requests on one slot arrive at least a window apart. Time-based holds, stamped at the grant,
// keep a grant to one small statement and let a replica that dies free its share by itself: its
// slots just run out.
//
// The store's clock stamps the grant; the spread is for the network's part of the way to Knack,
// the margin for ours, from the stamp to the write. A grant whose answer reached us more than
// `marginMs` after we asked (a busy event loop, a slow database) could reach Knack late enough
// to share a window with the slot's next holder: its slot is held that much longer (a second
// statement, sent without waiting: it lands long before the slot's hold ends) and the request
// goes at once. Dropping such grants instead halved the speed on a loaded machine.
//
// What no grant-side measure sees is a request written late after its grant: in the two-replica
// test the first request of each sweep (a list GET, at the start of a busy sweep) reached the
// simulator more than the 25 ms of slack late and shared a window with its slot's next holder
// (11 in one second, a 429), while every later window held 10. So the answer also holds the
// slot until one window (+ margin) after it — the request reached Knack before its answer — in a
// second small statement sent without waiting (it lands long before the grant's hold ends,
// unless Knack took longer than a window to answer). The cost: a slot serves once per
// max(hold, latency + window), as the in-process limiter did before it counted from the write.
// Once the transport tells the limiter when a request is written, counting from that moment
// (plus the spread) can replace this.
//
// Within a process, waiters are served in FIFO order by one loop that takes one slot per round
// trip and sleeps, while every slot is busy, until the store says the earliest frees.
import type { Permit, RateLimiter } from './limiter.js'
import type { RateSlots } from './rate-slots.js'

export interface SharedRateLimiterOptions {
  slots: RateSlots
  appId: string
  /** Requests allowed per window, for all replicas together. */
  rate: number
  /** Window length, 1000 ms for Knack. */
  windowMs?: number
  /** How unevenly requests reach Knack after they are sent (default 20 ms). */
  arrivalSpreadMs?: number
  /** Clock granularity and the time between the grant and the write (default 5 ms). */
  marginMs?: number
  /** The store failed; the limiter retries (bounded backoff) and the error is only reported. */
  onError?: (err: unknown) => void
}

interface Waiter {
  since: number
  resolve: (permit: Permit) => void
  reject: (err: Error) => void
}

/** Backoff after a store error: doubles from the first to the last, then stays there. */
const ERROR_BACKOFF_MS = [100, 200, 400, 800, 1600] as const
/** Never sleep longer than this on one answer: a pause longer than that is slept in steps. */
const MAX_SLEEP_MS = 60_000

export function createSharedRateLimiter(opts: SharedRateLimiterOptions): RateLimiter {
  const rate = Math.floor(opts.rate)
  if (!Number.isFinite(rate) || rate < 1) throw new RangeError(`rate must be a positive integer, got ${opts.rate}`)
  const marginMs = opts.marginMs ?? 5
  const holdMs = (opts.windowMs ?? 1000) + (opts.arrivalSpreadMs ?? 20) + marginMs
  const answerHoldMs = (opts.windowMs ?? 1000) + marginMs
  const { slots, appId } = opts

  const waiters: Waiter[] = []
  let running = false
  let closed = false
  let timer: NodeJS.Timeout | undefined
  let wake: (() => void) | undefined
  /** Local copy of a pause, so this process does not ask the store while it knows the answer. */
  let pausedUntil = 0
  let errors = 0

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      wake = resolve
      // Kept ref'd on purpose: a CLI awaiting a grant must not exit early; close() clears it.
      timer = setTimeout(resolve, ms)
    })
  }

  async function run(): Promise<void> {
    running = true
    try {
      // Each round grants one waiter or sleeps; it ends when nobody waits or the limiter closes.
      while (!closed && waiters.length > 0) {
        const pauseLeft = pausedUntil - Date.now()
        if (pauseLeft > 0) {
          await sleep(Math.min(pauseLeft, MAX_SLEEP_MS))
          continue
        }
        let answer
        const askedAt = performance.now()
        try {
          answer = await slots.take(appId, rate, holdMs)
          errors = 0
        } catch (err) {
          opts.onError?.(err)
          await sleep(ERROR_BACKOFF_MS[Math.min(errors++, ERROR_BACKOFF_MS.length - 1)] as number)
          continue
        }
        if (closed) return
        if (answer.granted) {
          const ageMs = performance.now() - askedAt
          if (ageMs > marginMs) {
            slots.extend(appId, answer.slot, ageMs - marginMs).catch((err: unknown) => opts.onError?.(err))
          }
          const waiter = waiters.shift()
          // Only close() empties the queue, and it was checked above: a granted slot always has a taker.
          if (waiter) waiter.resolve(permit(answer.slot, Date.now() - waiter.since))
          continue
        }
        // 1 ms at least: a slot free but locked by another taker is free again within a statement.
        await sleep(Math.min(Math.max(1, answer.retryInMs), MAX_SLEEP_MS))
      }
    } finally {
      running = false
      timer = undefined
      wake = undefined
    }
  }

  function permit(slot: number, waitedMs: number): Permit {
    let released = false
    return {
      waitedMs,
      release() {
        // The answer never frees a slot early: at most it holds it longer.
        if (released) return
        released = true
        slots.holdFromNow(appId, slot, answerHoldMs).catch((err: unknown) => opts.onError?.(err))
      }
    }
  }

  return {
    acquire() {
      if (closed) return Promise.reject(new Error('rate limiter closed'))
      return new Promise<Permit>((resolve, reject) => {
        waiters.push({ since: Date.now(), resolve, reject })
        if (!running) void run()
      })
    },
    pauseUntil(epochMs) {
      if (epochMs <= pausedUntil) return
      pausedUntil = epochMs
      // Every replica backs off: the store holds all of the app's slots until then.
      slots.pause(appId, epochMs - Date.now()).catch((err: unknown) => opts.onError?.(err))
    },
    get pending() {
      return waiters.length
    },
    close() {
      closed = true
      if (timer !== undefined) clearTimeout(timer)
      wake?.()
      const err = new Error('rate limiter closed')
      for (const w of waiters.splice(0)) w.reject(err)
    }
  }
}
