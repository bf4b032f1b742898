// Quick retries inside one attempt. The Boomi gateway answered "404 No such path" on about half
// of all requests in July 2026 (a node without the listener; the next connection may reach one
// that has it): a few jittered retries within well under a second make such a gateway cost
// milliseconds instead of a rescheduled attempt.

export interface QuickRetryPolicy {
  /** Tries per attempt, the first included. */
  tries: number
  /** Wait before the second try; doubled for each later one; each wait is jittered to 50–100 %. */
  firstDelayMs: number
  /** No retry starts once this long has passed since the first try began. */
  budgetMs: number
}

/** 5 tries: at 50 % failures, 1 attempt in 32 fails. The waits add up to at most 750 ms. */
export const DEFAULT_QUICK_RETRY: QuickRetryPolicy = { tries: 5, firstDelayMs: 50, budgetMs: 1500 }

/** The wait before try `next` (2 for the first retry), or undefined when no retry should start. */
export function quickRetryDelay(policy: QuickRetryPolicy, next: number, elapsedMs: number, random: () => number): number | undefined {
  if (next > policy.tries) return undefined
  const full = policy.firstDelayMs * 2 ** (next - 2)
  const delay = Math.round(full * (0.5 + random() / 2))
  return elapsedMs + delay > policy.budgetMs ? undefined : delay
}
