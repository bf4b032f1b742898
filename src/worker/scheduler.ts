// SWEEP_INTERVAL: sweep every app on that period (jittered so replicas and apps spread out), plus
// a nightly mop-up sweep at 03:00 in each app's time zone. A sweep never overlaps itself per app:
// the scheduler skips an app whose sweep is still running (the sweeper would join it anyway).
import type { Logger } from 'pino'
import type { AppConfig } from '../config/types.js'
import type { Sweeper, SweepTrigger } from '../intake/sweep.js'

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
  stop(): void
}

const NIGHTLY_HOUR = 3

export function createScheduler(deps: SchedulerDeps): Scheduler {
  const timers = new Set<NodeJS.Timeout>()
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

  async function sweepAll(trigger: SweepTrigger) {
    for (const app of deps.apps.values()) {
      if (stopped) return
      if (deps.sweeper.running().includes(app.name)) {
        deps.logger.info({ app: app.name, trigger }, 'scheduled sweep skipped: one is still running')
        continue
      }
      try {
        const r = await deps.sweeper.sweep(app, trigger)
        deps.logger.info({ app: app.name, trigger, found: r.found, queued: r.queued }, 'scheduled sweep done')
      } catch (err) {
        deps.logger.error({ app: app.name, trigger, err: (err as Error).message }, 'scheduled sweep failed')
      }
    }
  }

  function scheduleInterval(intervalMs: number) {
    const wait = intervalMs + Math.floor(random() * intervalMs * (deps.jitter ?? 0.1))
    later(wait, () => {
      void sweepAll('schedule').finally(() => scheduleInterval(intervalMs))
    })
  }

  function scheduleNightly() {
    const zone = deps.apps.values().next().value?.timezone ?? 'UTC'
    later(msUntilLocalHour(now(), zone, NIGHTLY_HOUR), () => {
      void sweepAll('nightly').finally(scheduleNightly)
    })
  }

  return {
    start() {
      if (!deps.intervalMs || !stopped) return
      stopped = false
      scheduleInterval(deps.intervalMs)
      scheduleNightly()
      deps.logger.info({ intervalMs: deps.intervalMs }, 'scheduled sweeps on')
    },
    stop() {
      stopped = true
      for (const t of timers) clearTimeout(t)
      timers.clear()
    }
  }
}

/** Milliseconds from `from` until the next `hour`:00 wall-clock time in `timeZone` (≥ 1 minute). */
export function msUntilLocalHour(from: Date, timeZone: string, hour: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', hour: 'numeric', minute: 'numeric', second: 'numeric' })
    .formatToParts(from)
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0)
  const sinceMidnight = (get('hour') * 3600 + get('minute') * 60 + get('second')) * 1000
  let wait = hour * 3_600_000 - sinceMidnight
  if (wait < 60_000) wait += 86_400_000
  return wait
}
