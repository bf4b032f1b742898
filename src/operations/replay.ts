// Replay a window: every activity the ESB accepted in [since, until) — optionally of one SR — is
// read from Knack again (through the client, so through its rate limiter) and queued as a new
// delivery with source `replay`, carrying what Knack holds now. The worker sends them in per-SR
// atd order like any other delivery; they are queued SR by SR in that order, so none of an SR's
// later activities is ever waiting in the queue before its earlier ones.
//
// One replay delivery per source delivery, ever: the ledger keys it by the source's id. Asking
// again — at once, twice, with a relative `since` that has moved on, or with an overlapping
// window — queues nothing new for what was replayed. The sources are the original sends
// (webhook, sweep, resend, retry), never earlier replays, so a replay is never replayed itself.
import type { KnackClient } from '../clients/knack/types.js'
import type { AppConfig } from '../config/types.js'
import { isKnackFailure, ReplayTooLarge } from '../errors.js'
import type { Intake } from '../intake/intake.js'
import type { AcceptedCursor, LifecycleStore } from '../ledger/lifecycle-types.js'
import { asked, type ActionLog } from './actions.js'
import { flag, Problems, text, time, type Progress, type Raw } from './input.js'
import { parseTime } from './times.js'

export interface ReplayInput {
  /** Required: ISO 8601 (the app's zone when no offset) or relative (`24h`). */
  since?: Raw
  /** Default: now. */
  until?: Raw
  sr?: Raw
  dry_run?: Raw
}

export interface ReplayResult {
  app: string
  since: string
  until: string
  sr: string | null
  dry_run: boolean
  /** Records the ESB accepted in the window (one per record, however often it was sent). */
  matched: number
  /** New replay deliveries. */
  queued: number
  /** Already replayed, or the same content already waiting to be sent. */
  duplicates: number
  /** No longer in Knack: nothing to send. */
  not_found: number
  /** Queued, but what Knack holds now is not valid: the delivery ends dead with the reason. */
  invalid: number
  /** The deliveries this call queued, in the order they were queued. */
  deliveries: number[]
}

/** Rows read per query while collecting the window. */
const PAGE = 500
/** Knack reads in flight at once; the client's limiter sets the pace. */
const READ_AHEAD = 5

export interface ReplayDeps {
  ledger: Pick<LifecycleStore, 'acceptedIn'>
  knack: Pick<KnackClient, 'readRecord'>
  intake: Pick<Intake, 'replayed'>
  actions: ActionLog
  clock: () => Date
}

export interface ReplayOptions {
  onProgress?: Progress | undefined
  /** Refuse (REPLAY_TOO_LARGE) a window holding more records than this; dry runs only count. */
  maxRecords?: number | undefined
}

interface Source {
  id: number
  recordId: string
  srNumber: string
  atdActivityId: number
}

export interface Replayer {
  replay(app: AppConfig, input: ReplayInput, operator: string, opts?: ReplayOptions): Promise<ReplayResult>
}

export function createReplayer(deps: ReplayDeps): Replayer {
  /** The latest original send of each record in the window, in per-SR order. */
  async function sources(app: AppConfig, since: Date, until: Date, sr: string | undefined, max: number): Promise<Source[]> {
    const byRecord = new Map<string, Source>()
    let after: AcceptedCursor | null = null
    for (let pages = 0; pages < 1_000_000; pages++) {
      const rows = await deps.ledger.acceptedIn({ app: app.name, since, until, srNumber: sr }, after, PAGE)
      for (const d of rows) {
        if (d.source === 'replay') continue
        // Rows come in time order: a later send of the record replaces an earlier one.
        byRecord.set(d.recordId, { id: d.id, recordId: d.recordId, srNumber: d.srNumber, atdActivityId: d.atdActivityId })
      }
      if (byRecord.size > max) break
      const last = rows[rows.length - 1]
      if (!last || rows.length < PAGE || !last.esbAcceptedAt) break
      after = { esbAcceptedAt: last.esbAcceptedAt, id: last.id }
    }
    return [...byRecord.values()].sort(
      (a, b) => (a.srNumber < b.srNumber ? -1 : a.srNumber > b.srNumber ? 1 : 0) || a.atdActivityId - b.atdActivityId || a.id - b.id
    )
  }

  async function run(app: AppConfig, window: { since: Date; until: Date; sr: string | undefined; dryRun: boolean }, result: ReplayResult, opts: ReplayOptions) {
    const max = window.dryRun ? Number.POSITIVE_INFINITY : (opts.maxRecords ?? Number.POSITIVE_INFINITY)
    const list = await sources(app, window.since, window.until, window.sr, max)
    if (list.length > max) {
      throw new ReplayTooLarge(
        `The window holds more than ${max} activities of ${app.name}; one request replays at most ${max}. Narrow the window, or use knack311 replay.`
      )
    }
    result.matched = list.length
    if (window.dryRun) return result
    opts.onProgress?.({ done: 0, total: list.length })
    for (let i = 0; i < list.length; i += READ_AHEAD) {
      const chunk = list.slice(i, i + READ_AHEAD)
      const reads = chunk.map((s) => deps.knack.readRecord(app, s.recordId).then((record) => ({ record }), (error: unknown) => ({ error })))
      // Read ahead, queue in order.
      for (const [k, source] of chunk.entries()) {
        const read = await (reads[k] as (typeof reads)[number])
        if ('error' in read) {
          if (isKnackFailure(read.error) && read.error.status === 404) {
            result.not_found++
            continue
          }
          await Promise.allSettled(reads)
          throw read.error
        }
        const outcome = await deps.intake.replayed(app, read.record, source.id)
        if (outcome.status === 'ignored') continue
        if (outcome.status === 'duplicate') result.duplicates++
        else {
          result.deliveries.push(outcome.delivery.id)
          if (outcome.valid) result.queued++
          else result.invalid++
        }
      }
      opts.onProgress?.({ done: Math.min(i + READ_AHEAD, list.length), total: list.length })
    }
    return result
  }

  return {
    async replay(app, input, operator, opts = {}) {
      const problems = new Problems()
      const ctx = { zone: app.timezone, now: deps.clock() }
      const sinceText = text(input.since, 'since', problems, 64)
      if (sinceText === undefined) problems.add('since', 'is required')
      const since = sinceText === undefined ? undefined : problems.read('since', () => parseTime(sinceText, ctx))
      const until = time(input.until, 'until', problems, ctx) ?? ctx.now
      if (since && until.getTime() <= since.getTime()) problems.add('until', 'must be later than since')
      const sr = text(input.sr, 'sr', problems, 64)
      const dryRun = flag(input.dry_run, 'dry_run', problems)
      problems.throwIfAny()
      const window = { since: since as Date, until, sr, dryRun }
      const result: ReplayResult = {
        app: app.name, since: window.since.toISOString(), until: until.toISOString(), sr: sr ?? null, dry_run: dryRun,
        matched: 0, queued: 0, duplicates: 0, not_found: 0, invalid: 0, deliveries: []
      }
      // A dry run only counts: not an action, not recorded.
      if (dryRun) return run(app, window, result, opts)
      const counts = () => ({ matched: result.matched, queued: result.queued, duplicates: result.duplicates, not_found: result.not_found, invalid: result.invalid })
      return deps.actions.around(
        { kind: 'replay', operator, request: { app: app.name, ...asked(input), resolved: { since: result.since, until: result.until } } },
        () => run(app, window, result, opts),
        counts,
        counts
      )
    }
  }
}
