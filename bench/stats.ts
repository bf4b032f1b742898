// Small numeric helpers for the benches.

/** The p-th percentile (0..100) of the values, nearest-rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1] as number
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Poll `check` every `everyMs` until it is true or `timeoutMs` passes; says which. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() >= deadline) return false
    await sleep(everyMs)
  }
}

/** A client's rate where Knack measures it, away from a run's start and end. */
export interface SteadyShare {
  /** Knack's limit over the stretch ÷ the stretch's length (1 = exactly at the limit). */
  share: number
  /** Requests counted in the stretch (a whole number of windows' worth) and its length. */
  requests: number
  seconds: number
}

/**
 * The share of Knack's limit a client used in steady state, from the times Knack counted its
 * requests (sorted, epoch ms). A limit of `rate` per `windowMs` means any `rate·k + 1` arrivals
 * span at least `k` windows, so the stretch from arrival i to arrival i + rate·k is measured
 * against exactly k windows — whole windows, so no edge effect from where the stretch starts in
 * a burst. The first `skipWindows` windows' worth of arrivals (the run's start: the first read,
 * new connections) are left out. Undefined when fewer than two windows' worth remain.
 */
export function steadyShare(arrivals: readonly number[], rate: number, windowMs = 1000, skipWindows = 2): SteadyShare | undefined {
  const sorted = [...arrivals].sort((a, b) => a - b)
  const from = rate * skipWindows
  const windows = Math.floor((sorted.length - 1 - from) / rate)
  if (windows < 2) return undefined
  const to = from + rate * windows
  const ms = (sorted[to] as number) - (sorted[from] as number)
  return { share: (windows * windowMs) / ms, requests: rate * windows, seconds: ms / 1000 }
}
