// How times, durations and numbers read in alerts: times in the first app's zone, durations in
// the two largest units ("1 h 23 min"), counts with a thousands separator.
const formatters = new Map<string, Intl.DateTimeFormat>()

/** `2026-11-28 07:00 CST`: minutes are enough for people; the ISO instant stays in `data`. */
export function localTime(iso: string | Date, timeZone: string): string {
  const d = typeof iso === 'string' ? new Date(iso) : iso
  if (!Number.isFinite(d.getTime())) return String(iso)
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      timeZoneName: 'short'
    })
    formatters.set(timeZone, f)
  }
  const parts = Object.fromEntries(f.formatToParts(d).map((p) => [p.type, p.value]))
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.timeZoneName ?? ''}`.trim()
}

const UNITS: Array<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['min', 60_000],
  ['s', 1000]
]

/** 5_025_000 → `1 h 23 min`; under a second → `0 s`. */
export function duration(ms: number): string {
  const total = Math.max(0, Math.round(ms))
  const i = UNITS.findIndex(([, size]) => total >= size)
  const major = UNITS[i]
  if (!major) return '0 s'
  const majorN = Math.floor(total / major[1])
  const minor = UNITS[i + 1]
  const minorN = minor ? Math.floor((total - majorN * major[1]) / minor[1]) : 0
  return minor && minorN > 0 ? `${majorN} ${major[0]} ${minorN} ${minor[0]}` : `${majorN} ${major[0]}`
}

export function count(n: number): string {
  return n.toLocaleString('en-US')
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`
}
