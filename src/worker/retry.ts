// What happens after a failed attempt: wait per RETRY_SCHEDULE, or give up; or, when the ESB
// endpoint itself failed, try again soon without counting the attempt.

export type RetryDecision = { kind: 'retry'; at: Date } | { kind: 'give_up' }

/** `attempts` counts the attempt that just failed (1 for the first). */
export function nextRetry(scheduleMs: readonly number[], attempts: number, now: Date): RetryDecision {
  const wait = scheduleMs[attempts - 1]
  if (wait === undefined) return { kind: 'give_up' }
  return { kind: 'retry', at: new Date(now.getTime() + wait) }
}

/** After an endpoint failure: 250 ms, doubled for each consecutive endpoint failure (across
 *  deliveries), at most `capMs`, jittered to 50–100 % so that the deliveries of
 *  a burst do not all come back at once. */
export function endpointRetryAt(now: Date, consecutiveFailures: number, capMs: number, random: () => number = Math.random): Date {
  const full = Math.min(capMs, 250 * 2 ** Math.max(0, Math.min(consecutiveFailures - 1, 16)))
  return new Date(now.getTime() + Math.round(full * (0.5 + random() / 2)))
}
