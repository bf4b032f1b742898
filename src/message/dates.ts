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

/** What the wall clock in `timeZone` shows at the instant `ms`. */
export function wallClockAt(ms: number, timeZone: string): WallClock {
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

/** The zone's offset from UTC at an instant, in ms (Chicago in winter: -21_600_000). */
function offsetAt(ms: number, timeZone: string): number {
  const whole = Math.floor(ms / 1000) * 1000
  return wallAsUtc(wallClockAt(whole, timeZone)) - whole
}

const pad = (n: number, width = 2): string => String(Math.abs(n)).padStart(width, '0')

/** ISO 8601 at seconds precision with the zone's offset at that instant: 2026-11-28T17:23:30-06:00. */
export function formatInstant(d: Date, timeZone: string): string {
  const ms = d.getTime()
  if (!Number.isFinite(ms)) throw new RangeError('Invalid date')
  const w = wallClockAt(ms, timeZone)
  const offsetMin = Math.round(offsetAt(ms, timeZone) / 60_000)
  const sign = offsetMin < 0 ? '-' : '+'
  const year = (w.year < 0 ? '-' : '') + pad(w.year, 4)
  return (
    `${year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}` +
    `${sign}${pad(Math.trunc(Math.abs(offsetMin) / 60))}:${pad(Math.abs(offsetMin) % 60)}`
  )
}

function isValidWallClock(w: WallClock): boolean {
  if (![w.year, w.month, w.day, w.hour, w.minute, w.second].every(Number.isInteger)) return false
  if (w.hour > 23 || w.minute > 59 || w.second > 59 || w.hour < 0 || w.minute < 0 || w.second < 0) return false
  const d = new Date(wallAsUtc(w))
  return d.getUTCFullYear() === w.year && d.getUTCMonth() === w.month - 1 && d.getUTCDate() === w.day
}

/**
 * The instant a wall-clock time names in a zone. In the repeated hour when clocks fall back
 * (Chicago 2019-11-03 01:00–02:00) the EARLIER instant is taken, the daylight-time reading
 * (01:30 → 01:30-05:00). In the missing hour when clocks spring forward (2019-03-10 02:00–03:00)
 * the time is shifted forward by the gap (02:30 → 03:30-05:00). Same as Temporal's 'compatible'.
 */
export function wallClockToInstant(w: WallClock, timeZone: string): Date {
  if (!isValidWallClock(w)) throw new RangeError('Not a calendar date and time')
  const t = wallAsUtc(w)
  const before = offsetAt(t - DAY_MS, timeZone)
  const after = offsetAt(t + DAY_MS, timeZone)
  const valid = [...new Set([before, after])]
    .map((offset) => t - offset)
    .filter((u) => offsetAt(u, timeZone) === t - u)
    .sort((a, b) => a - b)
  // No reading exists in a gap: read it with the offset from before the gap, which lands after it.
  return new Date(valid[0] ?? t - before)
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

function fromKnackFormatted(s: string, timeZone: string): Date | null {
  const m = KNACK_FORMATTED.exec(s)
  if (m === null) return null
  const [, mo, d, y, h, mi, ampm] = m
  return wallClockToInstant(
    {
      year: Number(y),
      month: Number(mo),
      day: Number(d),
      hour: h === undefined ? 0 : hour24(Number(h), ampm),
      minute: mi === undefined ? 0 : Number(mi),
      second: 0
    },
    timeZone
  )
}

/** `2019-09-11T16:14:00.000Z` as Knack means it: local wall-clock time wrongly labelled UTC. */
function fromLocalIso(s: string, timeZone: string): Date | null {
  const m = ISO_LOCAL.exec(s)
  if (m === null) return null
  const [, y, mo, d, h, mi, sec] = m
  return wallClockToInstant(
    { year: Number(y), month: Number(mo), day: Number(d), hour: Number(h ?? 0), minute: Number(mi ?? 0), second: Number(sec ?? 0) },
    timeZone
  )
}

function fromString(s: string, timeZone: string): Date | null {
  if (ISO_WITH_OFFSET.test(s)) {
    const ms = Date.parse(s)
    return Number.isFinite(ms) ? new Date(ms) : null
  }
  return fromLocalIso(s, timeZone) ?? fromKnackFormatted(s, timeZone)
}

/** unix_timestamp: local wall-clock time counted as if it were UTC. */
function fromLocalUnix(ms: number, timeZone: string): Date {
  if (!Number.isFinite(ms)) throw new RangeError('Not a timestamp')
  const d = new Date(ms)
  return wallClockToInstant(
    {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds()
    },
    timeZone
  )
}

/** The raw date object; 'blank' when it holds no date at all. */
function fromKnackObject(o: Record<string, unknown>, timeZone: string): Date | 'blank' | null {
  const iso = o.iso_timestamp
  if (typeof iso === 'string' && iso.trim() !== '') {
    const s = iso.trim()
    // Only a trailing Z is Knack's false label; a real offset is taken at its word.
    return /Z$/i.test(s) ? fromLocalIso(s, timeZone) : fromString(s, timeZone)
  }
  const unix = o.unix_timestamp
  if (typeof unix === 'number') return fromLocalUnix(unix, timeZone)
  if (typeof o.date === 'string' && o.date.trim() !== '') {
    const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(o.date.trim())
    if (m === null) throw new RangeError('Not a date Knack sends')
    const hasTime = o.hours !== undefined && o.hours !== null && o.hours !== ''
    const amPm = typeof o.am_pm === 'string' ? o.am_pm : undefined
    return wallClockToInstant(
      {
        year: Number(m[3]),
        month: Number(m[1]),
        day: Number(m[2]),
        hour: hasTime ? hour24(Number(o.hours), amPm) : 0,
        minute: hasTime ? Number(o.minutes ?? 0) : 0,
        second: 0
      },
      timeZone
    )
  }
  if (typeof o.timestamp === 'string' && o.timestamp.trim() !== '') return fromKnackFormatted(o.timestamp.trim(), timeZone)
  return 'blank'
}

/**
 * A Knack date value → ISO 8601 in the app's zone with its offset, or null when blank.
 * Accepts the raw date object (iso_timestamp, unix_timestamp, date + hours/minutes/am_pm,
 * timestamp — in that order of preference; an object with none of them is blank), a number (unix_timestamp), an ISO string with an
 * offset (a real instant), an ISO string without one (wall clock) and the formatted
 * "09/11/2019 04:14pm". Throws RangeError for anything else.
 */
export function knackDateToIso(raw: unknown, timeZone: string): string | null {
  if (raw === null || raw === undefined) return null
  let instant: Date | 'blank' | null = null
  if (typeof raw === 'string') {
    if (raw.trim() === '') return null
    instant = fromString(raw.trim(), timeZone)
  } else if (typeof raw === 'number') {
    instant = fromLocalUnix(raw, timeZone)
  } else if (typeof raw === 'object' && !Array.isArray(raw)) {
    instant = fromKnackObject(raw as Record<string, unknown>, timeZone)
  }
  if (instant === 'blank') return null
  if (instant === null) throw new RangeError('Not a date Knack sends')
  return formatInstant(instant, timeZone)
}
