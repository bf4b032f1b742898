// Durations as people write them in the environment: a whole number and a unit (ms, s, m, h, d).
// A bare number is refused on purpose: "30" could mean seconds to one reader and ms to another.

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const DURATION = /^(\d+)(ms|s|m|h|d)$/
/** Node timers overflow above 2^31-1 ms and then fire at once; refuse what a timer cannot hold. */
export const MAX_DURATION_MS = 2_147_483_647

/** The amount in ms, unbounded. Throws a plain Error naming the text for anything else. */
function toMs(text: string): number {
  const match = DURATION.exec(text.trim())
  if (match === null) throw new Error(`${JSON.stringify(text)} is not a duration (use ms, s, m, h, d)`)
  const [, amount = '', unit = 'ms'] = match
  return Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS]
}

/** `250ms`, `30s`, `2m`, `1h`, `1d` → milliseconds, at most what a timer can wait (24 days). */
export function parseDuration(text: string): number {
  const ms = toMs(text)
  if (ms > MAX_DURATION_MS) throw new Error(`${JSON.stringify(text)} is longer than the 24 days a timer can wait`)
  return ms
}

/** A span of time that is compared, never waited for (`RETENTION=90d`, `--older-than 400d`): no timer cap. */
export function parseSpan(text: string): number {
  const ms = toMs(text)
  if (!Number.isSafeInteger(ms)) throw new Error(`${JSON.stringify(text)} is too long`)
  return ms
}

/** `30s,2m,10m` → [30000, 120000, 600000]: non-empty, every item above zero. */
export function parseDurationList(text: string): number[] {
  const items = text.split(',')
  if (text.trim() === '') throw new Error('is empty (give durations separated by commas, e.g. 30s,2m)')
  return items.map((item, index) => {
    const prefix = items.length > 1 ? `item ${index + 1}: ` : ''
    let ms: number
    try {
      ms = parseDuration(item)
    } catch (err) {
      throw new Error(prefix + (err as Error).message)
    }
    if (ms <= 0) throw new Error(`${prefix}${JSON.stringify(item.trim())} must be longer than zero`)
    return ms
  })
}
