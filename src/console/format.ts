// Values as the console shows them. The routes turn ledger data into these plain view models, so
// templates only loop and test; every string here is still escaped by the template engine.
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser'
import type { Config } from '../config/types.js'
import type { DeliveryStatus } from '../ledger/types.js'

/** Times are shown in the first app's zone: where the staff work (America/Chicago for the City). */
export function displayZone(config: Pick<Config, 'apps'>): string {
  return config.apps.values().next().value?.timezone ?? 'UTC'
}

export interface TimeView {
  /** For <time datetime>. */
  iso: string
  /** Wall time in the zone the staff work in, e.g. "2026-03-01 06:00:03 CST". */
  text: string
  /** "4 min ago", "in 2 h". */
  ago: string
}

export function timeView(d: Date | null | undefined, now: Date, zone: string): TimeView | null {
  if (!d) return null
  return { iso: d.toISOString(), text: wallTime(d, zone), ago: relative(d, now) }
}

const wallFormats = new Map<string, Intl.DateTimeFormat>()

function wallTime(d: Date, zone: string): string {
  let f = wallFormats.get(zone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'short'
    })
    wallFormats.set(zone, f)
  }
  const p = Object.fromEntries(f.formatToParts(d).map((x) => [x.type, x.value]))
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.timeZoneName}`
}

export function relative(d: Date, now: Date): string {
  const ms = now.getTime() - d.getTime()
  const span = spanText(Math.abs(ms))
  if (span === 'now') return 'just now'
  return ms >= 0 ? `${span} ago` : `in ${span}`
}

/** 950 → "950 ms", 61 000 → "1 min", 7 200 000 → "2 h", 3 days → "3 d". */
export function spanText(ms: number): string {
  if (ms < 1000) return ms < 500 ? 'now' : '1 s'
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  const m = Math.round(s / 60)
  if (m < 60) return `${m} min`
  const h = Math.round(m / 60)
  if (h < 48) return `${h} h`
  return `${Math.round(h / 24)} d`
}

export function durationText(ms: number): string {
  return ms < 1000 ? `${Math.max(0, Math.round(ms))} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
}

/** What each status means to a person, for the list's legend and the badge's title. */
export const STATUS_MEANING: Record<DeliveryStatus, string> = {
  queued: 'waiting for its turn',
  sending: 'being sent now',
  esb_accepted: 'the ESB has it; Knack not yet marked',
  sent: 'the ESB has it and Knack is marked',
  skipped: 'not sent (no CSR code): marked in Knack',
  failed: 'an attempt failed; it will be tried again',
  dead: 'given up: needs a person'
}

/** Record JSON for reading: indented, long text kept. */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2)
}

/** First line of a long text, cut at `max` characters, for table cells. */
export function shortText(text: string | null | undefined, max = 120): string {
  if (!text) return ''
  const line = text.split('\n', 1)[0] ?? ''
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

// Entities are kept as written (processEntities off both ways): the text is shown exactly as it
// travels, only line breaks and indentation are added between elements.
const xmlReader = new XMLParser({ preserveOrder: true, ignoreAttributes: false, parseTagValue: false, parseAttributeValue: false, trimValues: false, processEntities: false, commentPropName: '#comment' })
const xmlWriter = new XMLBuilder({ preserveOrder: true, ignoreAttributes: false, format: true, indentBy: '  ', processEntities: false, suppressEmptyNode: true, commentPropName: '#comment' })

/** XML indented for reading; anything that is not well-formed XML comes back as it was. */
export function indentXml(text: string): string {
  if (XMLValidator.validate(text) !== true) return text
  try {
    return String(xmlWriter.build(xmlReader.parse(text))).trim()
  } catch {
    return text
  }
}

/** "given up: needs a person" → "Given up: needs a person." */
export function sentence(text: string): string {
  const t = text.trim()
  if (t === '') return t
  return `${t[0]?.toUpperCase() ?? ''}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}`
}
