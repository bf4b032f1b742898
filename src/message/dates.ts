// Dates with the app's offset, using Intl only. Knack date fields hold local wall-clock time.

export interface WallClock {
  year: number
  /** 1–12 */
  month: number
  day: number
  hour: number
  minute: number
  second: number
}

const DAY_MS = 86_400_000
// Memo of Intl formatters per zone: pure computation, no I/O.
const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit'
    })
    formatters.set(timeZone, f)
  }
  return f
}

/** The wall clock in `timeZone` at `ms` as Intl tells it (formatToParts: the slow, exact path). */
function intlWallClockAt(ms: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {}
  for (const p of formatter(timeZone).formatToParts(ms)) if (p.type !== 'literal') parts[p.type] = Number(p.value)
  return {
    year: parts.year ?? NaN,
    month: parts.month ?? NaN,
    day: parts.day ?? NaN,
    hour: parts.hour ?? NaN,
    minute: parts.minute ?? NaN,
    second: parts.second ?? NaN
  }
}

function wallAsUtc(w: WallClock): number {
  const d = new Date(0)
  d.setUTCFullYear(w.year, w.month - 1, w.day)
  d.setUTCHours(w.hour, w.minute, w.second, 0)
  return d.getTime()
}

function intlOffsetAt(ms: number, timeZone: string): number {
  const whole = Math.floor(ms / 1000) * 1000
  return wallAsUtc(intlWallClockAt(whole, timeZone)) - whole
}

// Memo of each zone's offset per 15-minute bucket of UTC time. Intl's formatToParts was 8 % of
// intake's CPU (every webhook converts a few dates, each asking the offset several times). Zone
// offsets change only at transitions, and real transitions fall on quarter-hour boundaries; a
// bucket is cached only when its first and last second show the same offset, so one holding a
// transition inside it (historical local mean time, say) is always asked of Intl instead. The
// assumption left is that no zone changes its offset twice within 15 minutes. Bounded: a zone's
// memo is emptied once it holds OFFSET_MEMO_MAX buckets (about six weeks of distinct buckets).
const BUCKET_MS = 15 * 60_000
const OFFSET_MEMO_MAX = 4096
const offsetMemo = new Map<string, Map<number, number>>()

/** The zone's offset from UTC at an instant, in ms (Chicago in winter: -21_600_000). */
function offsetAt(ms: number, timeZone: string): number {
  const bucket = Math.floor(ms / BUCKET_MS)
  let memo = offsetMemo.get(timeZone)
  const hit = memo?.get(bucket)
  if (hit !== undefined) return hit
  const start = bucket * BUCKET_MS
  const first = intlOffsetAt(start, timeZone)
  if (first !== intlOffsetAt(start + BUCKET_MS - 1000, timeZone)) return intlOffsetAt(ms, timeZone)
  if (memo === undefined) {
    memo = new Map()
    offsetMemo.set(timeZone, memo)
  } else if (memo.size >= OFFSET_MEMO_MAX) {
    memo.clear()
  }
  memo.set(bucket, first)
  return first
}

/** What the wall clock in `timeZone` shows at the instant `ms`. */
export function wallClockAt(ms: number, timeZone: string): WallClock {
  const whole = Math.floor(ms / 1000) * 1000
  const local = new Date(whole + offsetAt(whole, timeZone))
  const year = local.getUTCFullYear()
  // Outside four-digit years Intl's own rendering (eras, no year 0) is kept as it was.
  if (!(year >= 1000 && year <= 9999)) return intlWallClockAt(ms, timeZone)
  return {
    year,
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds()
  }
}

const pad = (n: number, width = 2): string => String(Math.abs(n)).padStart(width, '0')

/** `2026-11-28T17:23:30-06:00`: a wall clock and an offset (minutes east of UTC), seconds precision. */
function isoWithOffset(w: WallClock, offsetMin: number): string {
  const sign = offsetMin < 0 ? '-' : '+'
  const year = (w.year < 0 ? '-' : '') + pad(w.year, 4)
  return (
    `${year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}` +
    `${sign}${pad(Math.trunc(Math.abs(offsetMin) / 60))}:${pad(Math.abs(offsetMin) % 60)}`
  )
}

/** ISO 8601 at seconds precision with the zone's offset at that instant: 2026-11-28T17:23:30-06:00. */
export function formatInstant(d: Date, timeZone: string): string {
  const ms = d.getTime()
  if (!Number.isFinite(ms)) throw new RangeError('Invalid date')
  return isoWithOffset(wallClockAt(ms, timeZone), Math.round(offsetAt(ms, timeZone) / 60_000))
}

function isValidWallClock(w: WallClock): boolean {
  if (![w.year, w.month, w.day, w.hour, w.minute, w.second].every(Number.isInteger)) return false
  if (w.hour > 23 || w.minute > 59 || w.second > 59 || w.hour < 0 || w.minute < 0 || w.second < 0) return false
  const d = new Date(wallAsUtc(w))
  return d.getUTCFullYear() === w.year && d.getUTCMonth() === w.month - 1 && d.getUTCDate() === w.day
}

/**
 * The zone's offset (ms) a wall-clock time is read with, as the legacy sender read Knack's
 * times (pytz `localize(dt, is_dst=False)`, checked against pytz):
 * - the repeated hour when clocks fall back (Chicago 2024-11-03 01:00–01:59) has two readings:
 *   the standard-time one, the later instant, is taken (01:30 → 01:30-06:00, 07:30Z);
 * - the missing hour when clocks spring forward (2024-03-10 02:00–02:59) has none: the offset
 *   from before the gap, standard time, is taken (02:30 → 02:30-06:00, 08:30Z = 03:30-05:00).
 */
function offsetForWallClock(w: WallClock, timeZone: string): number {
  if (!isValidWallClock(w)) throw new RangeError('Not a calendar date and time')
  const t = wallAsUtc(w)
  const before = offsetAt(t - DAY_MS, timeZone)
  const after = offsetAt(t + DAY_MS, timeZone)
  const valid = [...new Set([before, after])].filter((offset) => offsetAt(t - offset, timeZone) === offset)
  // The smaller offset is the later instant: standard time where daylight time overlaps it.
  return valid.length === 0 ? before : Math.min(...valid)
}

/**
 * The instant a wall-clock time names in a zone (see offsetForWallClock): in the repeated
 * fall-back hour the later, standard-time instant; in the spring-forward gap the standard-time
 * reading, which lands after the gap (02:30 → 08:30Z, shown as 03:30-05:00).
 */
export function wallClockToInstant(w: WallClock, timeZone: string): Date {
  return new Date(wallAsUtc(w) - offsetForWallClock(w, timeZone))
}

/**
 * A wall-clock time as the legacy wrote it: the time as typed with the offset it is read with
 * (2024-11-03T01:30:00-06:00). Only in the spring-forward gap does this differ in text, not in
 * instant, from formatInstant(wallClockToInstant(w)): 02:30-06:00 rather than 03:30-05:00.
 */
export function formatWallClock(w: WallClock, timeZone: string): string {
  return isoWithOffset(w, Math.round(offsetForWallClock(w, timeZone) / 60_000))
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i
const ISO_LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?)?Z?$/i
const KNACK_FORMATTED = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})\s*([ap]m)?)?$/i

function hour24(hours: number, amPm: string | undefined): number {
  if (amPm === undefined || amPm === '') return hours
  if (hours < 1 || hours > 12) return NaN
  const pm = amPm.toLowerCase() === 'pm'
  return (hours % 12) + (pm ? 12 : 0)
}

/** What a Knack date value names: a wall-clock time in the app's zone, or a real instant. */
type KnackTime = { wall: WallClock } | { instant: Date }

function fromKnackFormatted(s: string): KnackTime | null {
  const m = KNACK_FORMATTED.exec(s)
  if (m === null) return null
  const [, mo, d, y, h, mi, ampm] = m
  return {
    wall: {
      year: Number(y),
      month: Number(mo),
      day: Number(d),
      hour: h === undefined ? 0 : hour24(Number(h), ampm),
      minute: mi === undefined ? 0 : Number(mi),
      second: 0
    }
  }
}

/** `2019-09-11T16:14:00.000Z` as Knack means it: local wall-clock time wrongly labelled UTC. */
function fromLocalIso(s: string): KnackTime | null {
  const m = ISO_LOCAL.exec(s)
  if (m === null) return null
  const [, y, mo, d, h, mi, sec] = m
  return { wall: { year: Number(y), month: Number(mo), day: Number(d), hour: Number(h ?? 0), minute: Number(mi ?? 0), second: Number(sec ?? 0) } }
}

function fromString(s: string): KnackTime | null {
  if (ISO_WITH_OFFSET.test(s)) {
    const ms = Date.parse(s)
    return Number.isFinite(ms) ? { instant: new Date(ms) } : null
  }
  return fromLocalIso(s) ?? fromKnackFormatted(s)
}

/** unix_timestamp: local wall-clock time counted as if it were UTC. */
function fromLocalUnix(ms: number): KnackTime {
  if (!Number.isFinite(ms)) throw new RangeError('Not a timestamp')
  const d = new Date(ms)
  return {
    wall: {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds()
    }
  }
}

/** The raw date object; 'blank' when it holds no date at all. */
function fromKnackObject(o: Record<string, unknown>): KnackTime | 'blank' | null {
  const iso = o.iso_timestamp
  if (typeof iso === 'string' && iso.trim() !== '') {
    const s = iso.trim()
    // Only a trailing Z is Knack's false label; a real offset is taken at its word.
    return /Z$/i.test(s) ? fromLocalIso(s) : fromString(s)
  }
  const unix = o.unix_timestamp
  if (typeof unix === 'number') return fromLocalUnix(unix)
  if (typeof o.date === 'string' && o.date.trim() !== '') {
    const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(o.date.trim())
    if (m === null) throw new RangeError('Not a date Knack sends')
    const hasTime = o.hours !== undefined && o.hours !== null && o.hours !== ''
    const amPm = typeof o.am_pm === 'string' ? o.am_pm : undefined
    return {
      wall: {
        year: Number(m[3]),
        month: Number(m[1]),
        day: Number(m[2]),
        hour: hasTime ? hour24(Number(o.hours), amPm) : 0,
        minute: hasTime ? Number(o.minutes ?? 0) : 0,
        second: 0
      }
    }
  }
  if (typeof o.timestamp === 'string' && o.timestamp.trim() !== '') return fromKnackFormatted(o.timestamp.trim())
  return 'blank'
}

/**
 * A Knack date value → ISO 8601 in the app's zone with its offset, or null when blank.
 * Accepts the raw date object (iso_timestamp, unix_timestamp, date + hours/minutes/am_pm,
 * timestamp — in that order of preference; an object with none of them is blank), a number
 * (unix_timestamp), an ISO string with an offset (a real instant, shown in the zone), an ISO
 * string without one (wall clock) and the formatted "09/11/2019 04:14pm". Wall-clock times are
 * written as the legacy wrote them (formatWallClock: the repeated fall-back hour and the
 * spring-forward gap as standard time). Throws RangeError for anything else.
 */
export function knackDateToIso(raw: unknown, timeZone: string): string | null {
  if (raw === null || raw === undefined) return null
  let time: KnackTime | 'blank' | null = null
  if (typeof raw === 'string') {
    if (raw.trim() === '') return null
    time = fromString(raw.trim())
  } else if (typeof raw === 'number') {
    time = fromLocalUnix(raw)
  } else if (typeof raw === 'object' && !Array.isArray(raw)) {
    time = fromKnackObject(raw as Record<string, unknown>)
  }
  if (time === 'blank') return null
  if (time === null) throw new RangeError('Not a date Knack sends')
  return 'wall' in time ? formatWallClock(time.wall, timeZone) : formatInstant(time.instant, timeZone)
}
