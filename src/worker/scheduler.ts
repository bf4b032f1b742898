// SWEEP_INTERVAL: sweep every app on that period (jittered so replicas and apps spread out), plus
// a nightly mop-up sweep at 03:00 in each app's time zone. Each app has its own timer chain: the
// next wait starts only when the app's sweep has ended, so a slow sweep never overlaps itself,
// and an app whose sweep is still running (an HTTP or CLI one, say) is skipped, not joined.
import type { Logger } from 'pino'
import type { AppConfig } from '../config/types.js'
import type { Sweeper, SweepTrigger } from '../intake/sweep.js'
import { wallClockAt, wallClockToInstant } from '../message/dates.js'

export interface SchedulerDeps {
  apps: ReadonlyMap<string, AppConfig>
  sweeper: Sweeper
  intervalMs?: number | undefined
  logger: Logger
  /** Fraction of the interval added at random to each wait (default 0.1). */
  jitter?: number
  random?: () => number
  now?: () => Date
}

export interface Scheduler {
  start(): void
  /** No new sweeps from now; resolves once the scheduler's sweeps in flight have ended. */
  stop(): Promise<void>
}

export const NIGHTLY_HOUR = 3

export function createScheduler(deps: SchedulerDeps): Scheduler {
  const timers = new Set<NodeJS.Timeout>()
  const inFlight = new Set<Promise<void>>()
  const random = deps.random ?? Math.random
  const now = deps.now ?? (() => new Date())
  let stopped = true

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t)
      if (!stopped) fn()
    }, ms)
    t.unref()
    timers.add(t)
  }

  async function sweepOne(app: AppConfig, trigger: SweepTrigger): Promise<void> {
    if (deps.sweeper.running().includes(app.name)) {
      deps.logger.info({ app: app.name, trigger }, 'scheduled sweep skipped: one is still running')
      return
    }
    try {
      const r = await deps.sweeper.sweep(app, trigger)
      deps.logger.info({ app: app.name, trigger, found: r.found, queued: r.queued }, 'scheduled sweep done')
    } catch (err) {
      // The sweeper has logged and counted the failure; the next period tries again.
      deps.logger.warn({ app: app.name, trigger, err: (err as Error).message }, 'scheduled sweep failed')
    }
  }

  /** Run a sweep, tracked so stop() can wait for it, then schedule what comes next. */
  function run(app: AppConfig, trigger: SweepTrigger, next: () => void) {
    const p = sweepOne(app, trigger).finally(() => {
      inFlight.delete(p)
      if (!stopped) next()
    })
    inFlight.add(p)
  }

  function scheduleInterval(app: AppConfig, intervalMs: number) {
    const wait = intervalMs + Math.floor(random() * intervalMs * (deps.jitter ?? 0.1))
    later(wait, () => run(app, 'schedule', () => scheduleInterval(app, intervalMs)))
  }

  function scheduleNightly(app: AppConfig) {
    later(msUntilLocalHour(now(), app.timezone, NIGHTLY_HOUR), () => run(app, 'nightly', () => scheduleNightly(app)))
  }

  return {
    start() {
      if (!deps.intervalMs || !stopped) return
      stopped = false
      for (const app of deps.apps.values()) {
        scheduleInterval(app, deps.intervalMs)
        scheduleNightly(app)
      }
      deps.logger.info({ intervalMs: deps.intervalMs, apps: [...deps.apps.keys()] }, 'scheduled sweeps on')
    },
    async stop() {
      stopped = true
      for (const t of timers) clearTimeout(t)
      timers.clear()
      await Promise.allSettled([...inFlight])
    }
  }
}

const MINUTE_MS = 60_000

/**
 * Milliseconds from `from` until the next `hour`:00 wall-clock time in `timeZone`, at least one
 * minute away (so a timer that fires on the hour schedules tomorrow's). Real elapsed time: across
 * a DST change the wait is an hour shorter or longer than the wall clock suggests.
 */
export function msUntilLocalHour(from: Date, timeZone: string, hour: number): number {
  const t = from.getTime()
  const today = wallClockAt(t, timeZone)
  for (let dayOffset = 0; dayOffset <= 2; dayOffset++) {
    // Date.UTC carries day overflow into the next month and year.
    const day = new Date(Date.UTC(today.year, today.month - 1, today.day + dayOffset))
    const wall = { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), hour, minute: 0, second: 0 }
    const at = wallClockToInstant(wall, timeZone).getTime()
    if (at - t >= MINUTE_MS) return at - t
  }
  // Unreachable for a real zone (two days always hold a later hour:00); keep a sane answer.
  return 86_400_000
}
