// Times as operators type them: ISO 8601 with an offset (an instant), without one (wall-clock
// time in a given zone: the first app's, or the replayed app's), a date alone (its midnight), or
// a relative `24h` / `7d` / `30m` (that long before now).
import { parseSpan } from '../config/duration.js'
import { wallClockToInstant } from '../message/dates.js'

const RELATIVE = /^\d+(ms|s|m|h|d)$/
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i

export interface TimeContext {
  /** IANA zone for times written without an offset. */
  zone: string
  now: Date
}

/** Throws a plain Error whose message reads after the field's name. */
export function parseTime(text: string, ctx: TimeContext): Date {
  const s = text.trim()
  if (RELATIVE.test(s)) return new Date(ctx.now.getTime() - parseSpan(s))
  const m = ISO.exec(s)
  if (m === null) throw new Error(`${JSON.stringify(text)} is not a time (ISO 8601 such as 2026-11-28T14:00 or 2026-11-28T14:00-06:00, or a relative time such as 24h)`)
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', offset] = m
  if (offset !== undefined && m[4] === undefined) throw new Error(`${JSON.stringify(text)}: a date alone takes no offset`)
  const wall = { year: Number(y), month: Number(mo), day: Number(d), hour: Number(h), minute: Number(mi), second: Number(sec) }
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'))
  if (offset === undefined) {
    try {
      return new Date(wallClockToInstant(wall, ctx.zone).getTime() + ms)
    } catch {
      throw new Error(`${JSON.stringify(text)} is not a calendar date and time`)
    }
  }
  const utc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second, ms)
  const back = new Date(utc)
  // Date.UTC rolls 2026-02-30 over into March: refuse what is not on the calendar.
  if (back.getUTCMonth() !== wall.month - 1 || back.getUTCDate() !== wall.day || wall.hour > 23 || wall.minute > 59 || wall.second > 59) {
    throw new Error(`${JSON.stringify(text)} is not a calendar date and time`)
  }
  return new Date(utc - offsetMs(offset, text))
}

function offsetMs(offset: string, text: string): number {
  if (offset.toUpperCase() === 'Z') return 0
  const sign = offset.startsWith('-') ? -1 : 1
  const digits = offset.slice(1).replace(':', '')
  const hours = Number(digits.slice(0, 2))
  const minutes = Number(digits.slice(2) || '0')
  if (hours > 23 || minutes > 59) throw new Error(`${JSON.stringify(text)}: ${offset} is not a UTC offset`)
  return sign * (hours * 60 + minutes) * 60_000
}
