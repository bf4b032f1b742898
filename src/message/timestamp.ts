// The header's `timestamp` (time of publication) exactly as the legacy sender wrote it: Python's
// `arrow.now().isoformat()` in a container without TZ (reference/esb-today.md). That is UTC with
// `+00:00`, microseconds, and — as Python's isoformat does — no fraction at all when it is zero.

const pad = (n: number, width = 2): string => String(n).padStart(width, '0')

/**
 * `2024-01-15T18:04:05.123000+00:00`, or `2024-01-15T18:04:05+00:00` on a whole second. A
 * JavaScript clock has milliseconds, so the last three digits are always `000`. Independent of
 * the app's and the process's time zone. Throws RangeError for an invalid date, or a year that
 * Python's datetime cannot hold (outside 1–9999), as the legacy could not have written one.
 */
export function publicationTimestamp(at: Date): string {
  const ms = at.getTime()
  if (!Number.isFinite(ms)) throw new RangeError('Invalid date')
  const year = at.getUTCFullYear()
  if (year < 1 || year > 9999) throw new RangeError(`Year ${year} is outside 1-9999`)
  const millis = at.getUTCMilliseconds()
  const fraction = millis === 0 ? '' : `.${pad(millis, 3)}000`
  return (
    `${pad(year, 4)}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}` +
    `T${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}${fraction}+00:00`
  )
}
