// The daily summary (DIGEST_AT): due once the wall clock of the first app's zone passes DIGEST_AT,
// for that local date, once (its key is the date), covering the day since the previous one.
import type { DigestAt } from '../config/types.js'
import type { AlertStore, NewAlert, StoredAlert } from '../ledger/alert-types.js'
import { wallClockAt, wallClockToInstant } from '../message/dates.js'
import type { PayloadOf } from './kinds.js'

const DAY_MS = 86_400_000
/** How far back a pause may have begun and still overlap the summary's day. */
const PAUSE_LOOKBACK_MS = 30 * DAY_MS

const pad = (n: number) => String(n).padStart(2, '0')

/** `2026-11-28`: the date the wall clock in `timeZone` shows at `at`. */
export function localDate(at: Date, timeZone: string): string {
  const w = wallClockAt(at.getTime(), timeZone)
  return `${w.year}-${pad(w.month)}-${pad(w.day)}`
}

export interface DigestWindow {
  /** The local date the summary is for (the day it is sent). */
  date: string
  from: Date
  to: Date
}

/** The summary due at `now`, or null before DIGEST_AT on this local date. Missed ones (the service
 *  was down at DIGEST_AT) are still due until the local date ends; earlier days are not caught up. */
export function digestDue(now: Date, timeZone: string, at: DigestAt): DigestWindow | null {
  const w = wallClockAt(now.getTime(), timeZone)
  const instantOn = (dayOffset: number): Date => {
    const day = new Date(Date.UTC(w.year, w.month - 1, w.day + dayOffset))
    return wallClockToInstant(
      { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), hour: at.hour, minute: at.minute, second: 0 },
      timeZone
    )
  }
  const to = instantOn(0)
  if (now.getTime() < to.getTime()) return null
  return { date: `${w.year}-${pad(w.month)}-${pad(w.day)}`, from: instantOn(-1), to }
}

export const digestKey = (date: string) => `digest:${date}`

export interface DigestInputs {
  store: AlertStore
  window: DigestWindow
  now: Date
  timezone: string
  stuckAfterMs: number
  /** Every configured app is listed, with zeros when it had nothing. */
  apps: readonly string[]
}

export async function buildDigest(inputs: DigestInputs): Promise<NewAlert> {
  const { store, window, now } = inputs
  const counts = await store.dayCounts(window.from, window.to, new Date(now.getTime() - inputs.stuckAfterMs))
  const byApp = new Map(counts.map((c) => [c.app, c]))
  const names = [...new Set([...inputs.apps, ...counts.map((c) => c.app)])]
  const apps: PayloadOf<'digest'>['apps'] = names.map((app) => {
    const c = byApp.get(app)
    return {
      app,
      sent: c?.sent ?? 0,
      skipped: c?.skipped ?? 0,
      dead: c?.dead ?? 0,
      pending: c?.pending ?? 0,
      stuck: c?.stuck ?? 0,
      oldest: c?.oldest ? { ...c.oldest, createdAt: c.oldest.createdAt.toISOString() } : null
    }
  })
  const pauseAlerts = await store.between(['esb.paused', 'esb.resumed'], new Date(window.from.getTime() - PAUSE_LOOKBACK_MS), window.to)
  const payload: PayloadOf<'digest'> = {
    date: window.date,
    timezone: inputs.timezone,
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    stuckAfterMs: inputs.stuckAfterMs,
    apps,
    pauses: pausesIn(pauseAlerts, window)
  }
  return { kind: 'digest', dedupeKey: digestKey(window.date), payload }
}

/** Pauses (from the outbox's paused/resumed alerts) that overlap the window, oldest first. */
export function pausesIn(alerts: readonly StoredAlert[], window: DigestWindow): PayloadOf<'digest'>['pauses'] {
  const resumedAt = new Map<string, string>()
  for (const a of alerts) {
    if (a.kind === 'esb.resumed' && typeof a.payload.pausedSince === 'string' && typeof a.payload.resumedAt === 'string') {
      resumedAt.set(a.payload.pausedSince, a.payload.resumedAt)
    }
  }
  const pauses: PayloadOf<'digest'>['pauses'] = []
  for (const a of alerts) {
    if (a.kind !== 'esb.paused' || typeof a.payload.since !== 'string') continue
    const since = a.payload.since
    const end = resumedAt.get(since) ?? null
    if (Date.parse(since) >= window.to.getTime()) continue
    if (end !== null && Date.parse(end) < window.from.getTime()) continue
    pauses.push({ since, resumedAt: end, lastError: typeof a.payload.lastError === 'string' ? a.payload.lastError : null })
  }
  return pauses.sort((x, y) => Date.parse(x.since) - Date.parse(y.since))
}
