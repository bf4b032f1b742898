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
// A request written late after its grant (a busy event loop, a request queued in the HTTP
// client) is held from its write instead: the transport tells the permit when the request was
// written (Permit.sent, from send-tap.ts), and a write more than `marginMs` after the grant holds
// the slot for the window + spread + margin from the store's now, which is no earlier than the
// write (a second small statement, sent without waiting).
//
// A request whose write does not bound its arrival — written on a new connection, whose far end
// may still be setting it up (sent(null)), or never reported — is held until one window
// (+ margin) after its answer instead: it reached Knack before its answer. That was the case that
// put 11 requests into one second in the two-replica test (a sweep's first request, a list GET
// on a new connection), when every request was held that way. Holding every request from its
// answer costs a slot once per latency + window: 94 % of the bound at 50 ms, 76 % at 300 ms.
// Counting from the write, as the in-process limiter does, costs only the spread per window.
//
// Until its write is known a request is in flight and may still reach Knack at any time, so its
// slot is held on, a hold at a time, while the grant's own hold runs out (a store write every
// half hold: none for a request written and answered in time).
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
/** Hold a slot on for an unanswered request this long at most: far past any attempt's timeout,
 *  so only a permit its caller never released (a bug) stops being held, instead of keeping a
 *  slot for the life of the process. */
const MAX_HOLD_ON_MS = 5 * 60_000

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
  /** Stops the hold-on timer of each permit still in flight (close() calls them). */
  const holding = new Set<() => void>()

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
        const askedAtEpoch = Date.now()
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
          // The store stamped the grant after we asked, and the extension above adds what the
          // answer took beyond the margin: the hold covers a write until this moment.
          if (waiter) waiter.resolve(permit(answer.slot, Date.now() - waiter.since, askedAtEpoch + Math.max(marginMs, ageMs)))
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

  /** `coveredUntil`: epoch ms; a request written by then is covered by the grant's hold. */
  function permit(slot: number, waitedMs: number, coveredUntil: number): Permit {
    const report = (err: unknown) => opts.onError?.(err)
    let released = false
    /** The write bounds the arrival: the grant's hold, or the one from the write, covers it. */
    let writeKnown = false
    let keeper: NodeJS.Timeout | undefined
    // In flight with no known write: hold the slot on before the current hold runs out.
    const holdOnUntil = Date.now() + MAX_HOLD_ON_MS
    const holdOn = (): void => {
      if (Date.now() > holdOnUntil) return stopHolding()
      slots.holdFromNow(appId, slot, holdMs).catch(report)
      keeper = setTimeout(holdOn, holdMs / 2)
      keeper.unref()
      holding.add(stopHolding)
    }
    const stopHolding = (): void => {
      if (keeper !== undefined) clearTimeout(keeper)
      keeper = undefined
      holding.delete(stopHolding)
    }
    keeper = setTimeout(holdOn, holdMs / 2)
    // The request's own I/O keeps the process alive; this timer must not.
    keeper.unref()
    holding.add(stopHolding)
    return {
      waitedMs,
      sent(atMs) {
        if (released) return
        if (atMs === null) {
          // A new connection: this write does not bound the arrival (nor does an earlier one, when
          // the HTTP client retries on a new connection). Held on, then from the answer.
          writeKnown = false
          stopHolding()
          holdOn()
          return
        }
        writeKnown = true
        stopHolding()
        // Written later than the grant's hold allows for: hold from the store's now, which is
        // after the write.
        if ((atMs ?? Date.now()) > coveredUntil) slots.holdFromNow(appId, slot, holdMs).catch(report)
      },
      release() {
        // The answer never frees a slot early: at most it holds it longer.
        if (released) return
        released = true
        stopHolding()
        if (!writeKnown) slots.holdFromNow(appId, slot, answerHoldMs).catch(report)
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
      for (const stop of [...holding]) stop()
      const err = new Error('rate limiter closed')
      for (const w of waiters.splice(0)) w.reject(err)
    }
  }
}
