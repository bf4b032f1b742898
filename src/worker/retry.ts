// What happens after a failed attempt: wait per RETRY_SCHEDULE, or give up.

export type RetryDecision = { kind: 'retry'; at: Date } | { kind: 'give_up' }

/** `attempts` counts the attempt that just failed (1 for the first). */
export function nextRetry(scheduleMs: readonly number[], attempts: number, now: Date): RetryDecision {
  const wait = scheduleMs[attempts - 1]
  if (wait === undefined) return { kind: 'give_up' }
  return { kind: 'retry', at: new Date(now.getTime() + wait) }
}
