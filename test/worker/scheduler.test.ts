// Scheduled sweeps: on the period for every app, never overlapping per app (even when Knack is
// slower than the period), stopped by stop(), visible in logs and metrics; and the nightly
// mop-up's timing across DST changes.
import { Writable } from 'node:stream'
import fc from 'fast-check'
import t from 'tap'
import type { AppConfig } from '../../src/config/types.js'
import type { Sweeper } from '../../src/intake/sweep.js'
import { createLogger } from '../../src/observability/logger.js'
import { createScheduler, msUntilLocalHour, NIGHTLY_HOUR } from '../../src/worker/scheduler.js'
import { activity, knackStatus, startStack, waitFor } from '../helpers/stack.js'

const HOUR = 3_600_000
const VIEW_READS = 'GET /pages/:scene/views/:view/records'

/** Wall clock in a zone as "YYYY-MM-DD HH:MM:SS". */
const wallFormats = new Map<string, Intl.DateTimeFormat>()
function wall(epochMs: number, timeZone: string): string {
  let f = wallFormats.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
    wallFormats.set(timeZone, f)
  }
  return f.format(new Date(epochMs))
}

t.test('msUntilLocalHour counts real time across DST changes', async (t) => {
  const chicago = 'America/Chicago'
  const cases: Array<[string, string, number, string]> = [
    ['an ordinary night', '2026-06-01T05:00:00Z', 3 * HOUR, '2026-06-01 03:00:00'],
    ['spring forward (02:00 → 03:00): the night is an hour short', '2026-03-08T06:00:00Z', 2 * HOUR, '2026-03-08 03:00:00'],
    ['fall back (02:00 → 01:00): the night is an hour long', '2026-11-01T05:00:00Z', 4 * HOUR, '2026-11-01 03:00:00'],
    ['from 03:30 the day before spring forward', '2026-03-07T09:30:00Z', 22.5 * HOUR, '2026-03-08 03:00:00'],
    ['on the hour itself: tomorrow, 25 h on the fall-back day', '2026-10-31T08:00:00Z', 25 * HOUR, '2026-11-01 03:00:00'],
    ['on the hour itself: tomorrow, 23 h on the spring-forward day', '2026-03-07T09:00:00Z', 23 * HOUR, '2026-03-08 03:00:00']
  ]
  for (const [what, from, expected, local] of cases) {
    const ms = msUntilLocalHour(new Date(from), chicago, NIGHTLY_HOUR)
    t.equal(ms, expected, what)
    t.equal(wall(Date.parse(from) + ms, chicago), local, `${what}: lands on ${local} local`)
  }
  t.equal(msUntilLocalHour(new Date('2026-03-29T00:30:00Z'), 'Europe/London', 3), 1.5 * HOUR, 'London spring forward at 01:00 GMT')
  t.equal(msUntilLocalHour(new Date('2026-01-01T02:59:30Z'), 'UTC', 3), 24 * HOUR + 30_000, 'under a minute away: the next day')
  t.equal(msUntilLocalHour(new Date('2026-01-01T02:58:00Z'), 'UTC', 3), 2 * 60_000)
})

t.test('msUntilLocalHour always lands on the next hour:00, a minute to 25 h away (property)', async (t) => {
  const zones = ['America/Chicago', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/St_Johns', 'UTC']
  const start = Date.parse('2024-01-01T00:00:00Z')
  const end = Date.parse('2028-12-31T00:00:00Z')
  fc.assert(
    fc.property(fc.integer({ min: start, max: end }), fc.constantFrom(...zones), fc.integer({ min: 3, max: 23 }), (from, zone, hour) => {
      const ms = msUntilLocalHour(new Date(from), zone, hour)
      if (ms < 60_000 || ms > 25 * HOUR + 60_000) return false
      const at = wall(from + ms, zone)
      if (!at.endsWith(` ${String(hour).padStart(2, '0')}:00:00`)) return false
      // No earlier hour:00 between a minute from now and the answer: the minute before it is not on the hour.
      const earlier = from + ms - HOUR
      return earlier < from + 60_000 || !wall(earlier, zone).endsWith(` ${String(hour).padStart(2, '0')}:00:00`)
    }),
    { numRuns: 2000 }
  )
  t.pass('2000 instants across five years and six zones')
})

interface SweepEvent {
  app: string
  kind: 'start' | 'end'
  at: number
}

/** The real sweeper, with every call's start and end recorded. */
function recording(sweeper: Sweeper, events: SweepEvent[]): Sweeper {
  return {
    running: () => sweeper.running(),
    outcomes: (ids, ms) => sweeper.outcomes(ids, ms),
    async sweep(app: AppConfig, trigger) {
      events.push({ app: app.name, kind: 'start', at: Date.now() })
      try {
        return await sweeper.sweep(app, trigger)
      } finally {
        events.push({ app: app.name, kind: 'end', at: Date.now() })
      }
    }
  }
}

/** Per app: the most sweeps in flight at once, and the shortest gap from one's end to the next's start. */
function analyse(events: SweepEvent[], app: string) {
  let open = 0
  let maxOpen = 0
  let lastEnd: number | undefined
  let minGap = Infinity
  let completed = 0
  for (const e of events.filter((x) => x.app === app)) {
    if (e.kind === 'start') {
      open++
      maxOpen = Math.max(maxOpen, open)
      if (lastEnd !== undefined) minGap = Math.min(minGap, e.at - lastEnd)
    } else {
      open--
      completed++
      lastEnd = e.at
    }
  }
  return { maxOpen, minGap, completed, open }
}

t.test('the scheduler sweeps every app on its period, one at a time per app, until stopped', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const events: SweepEvent[] = []
  const intervalMs = 300
  const scheduler = createScheduler({
    apps: stack.config.apps,
    sweeper: recording(stack.app!.service.sweeper, events),
    intervalMs,
    jitter: 0.2,
    logger: createLogger({ level: 'silent' })
  })
  const apps = [...stack.config.apps.keys()]
  t.same(apps.sort(), ['data-tracker', 'signs-markings'])
  const viewReads = () => stack.knackSim.stats().byRoute[VIEW_READS] ?? 0

  scheduler.start()
  scheduler.start() // a second start is a no-op, not a second timer chain
  await waitFor(() => apps.every((a) => analyse(events, a).completed >= 3), 30_000, 'three sweeps of each app')
  t.ok(viewReads() >= 6, `${viewReads()} view reads for ${events.length / 2} sweeps`)

  // Knack now answers slower than the period: a sweep outlasts it and must not be doubled.
  stack.knackSim.setLatency(intervalMs + 200)
  const before = Object.fromEntries(apps.map((a) => [a, analyse(events, a).completed]))
  await waitFor(() => apps.every((a) => analyse(events, a).completed >= (before[a] ?? 0) + 2), 45_000, 'two slow sweeps of each app')
  stack.knackSim.setLatency(0)

  await scheduler.stop()
  for (const app of apps) {
    const r = analyse(events, app)
    t.equal(r.maxOpen, 1, `${app}: never two sweeps at once`)
    t.equal(r.open, 0, `${app}: stop() waited for the sweep in flight`)
    // Timers may fire a millisecond early against Date.now(); the wait is the full period otherwise.
    t.ok(r.minGap >= intervalMs - 5, `${app}: each sweep waits a period after the last (shortest gap ${r.minGap} ms)`)
  }

  const count = events.length
  const reads = viewReads()
  await new Promise((r) => setTimeout(r, intervalMs * 4))
  t.equal(events.length, count, 'no sweep after stop()')
  t.equal(viewReads(), reads, 'no Knack view read after stop()')
})

t.test('SWEEP_INTERVAL in a running service: sweeps in logs and metrics, records delivered', async (t) => {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>)
      done()
    }
  })
  const stack = await startStack({ env: { SWEEP_INTERVAL: '300ms' }, logger: createLogger({ level: 'info', destination: stream }) })
  t.teardown(() => stack.close())
  const dt = [activity(), activity()]
  const sm = [activity({ activityName: 'Conduct Investigation' })]
  stack.seed('data-tracker', dt)
  stack.seed('signs-markings', sm)

  const scheduled = async (app: string) => {
    const res = await stack.app!.inject({ method: 'GET', url: '/metrics' })
    const m = new RegExp(`^knack311_sweeps_total\\{app="${app}",trigger="schedule",result="ok"\\} (\\d+)$`, 'm').exec(res.body)
    return Number(m?.[1] ?? 0)
  }
  await waitFor(async () => (await scheduled('data-tracker')) >= 2 && (await scheduled('signs-markings')) >= 2, 30_000, 'two scheduled sweeps of each app')
  await waitFor(() => [...dt.map((a) => knackStatus(stack, 'data-tracker', a.id)), ...sm.map((a) => knackStatus(stack, 'signs-markings', a.id))].every((s) => s === 'SENT') || undefined, 30_000, 'swept records SENT')
  t.pass('every seeded record was found by a scheduled sweep and sent')
  t.equal(stack.esbSim.received.length, 3, 'one ESB message per record, however many sweeps saw it')

  // Slower than the period: the service's own scheduler must not overlap sweeps of an app.
  stack.knackSim.setLatency(500)
  const mark = lines.length
  const finishedSince = (app: string) => lines.slice(mark).filter((l) => l.msg === 'sweep finished' && l.app === app && l.sweep === 'schedule').length
  await waitFor(() => (finishedSince('data-tracker') >= 2 && finishedSince('signs-markings') >= 2) || undefined, 45_000, 'two slow sweeps of each app')
  stack.knackSim.setLatency(0)

  t.ok(lines.some((l) => l.msg === 'scheduled sweeps on'), 'start-up says sweeps are on')
  for (const app of ['data-tracker', 'signs-markings']) {
    let open = 0
    let maxOpen = 0
    for (const l of lines.filter((x) => x.app === app)) {
      if (l.msg === 'sweep started') maxOpen = Math.max(maxOpen, ++open)
      if (l.msg === 'sweep finished' || l.msg === 'sweep stopped: Knack read failed') open--
    }
    t.equal(maxOpen, 1, `${app}: the logs never show two sweeps at once`)
    t.ok(lines.some((l) => l.msg === 'scheduled sweep done' && l.app === app && l.trigger === 'schedule'), `${app}: scheduled sweep logged`)
  }
})
