// Who did what: every operator action is written here by the service that does it, so whichever
// door it came through (JSON route, console, command line) it is recorded the same way. Kept
// beyond RETENTION: pruning touches deliveries only.
import type { Logger } from 'pino'
import type { Action, LifecycleStore } from '../ledger/lifecycle-types.js'

export const ACTION_KINDS = ['retry', 'bulk_retry', 'resend', 'replay', 'sweep', 'prune', 'login', 'logout'] as const
export type ActionKind = (typeof ACTION_KINDS)[number]

/** Work the service does on its own (the daily prune). No operator name can contain "(". */
export const SYSTEM_OPERATOR = '(system)'

export interface ActionEntry {
  kind: ActionKind
  /** req.operator: "admin" for ADMIN_TOKEN, an OPERATOR_TOKENS name; "cli:<user>"; SYSTEM_OPERATOR. */
  operator: string
  /** What was asked, as it was asked (times as typed, plus what they resolved to). */
  request: Record<string, unknown>
  /** What it did. */
  result: Record<string, unknown>
}

export interface ActionLog {
  record(entry: ActionEntry): Promise<Action>
  /** Newest first; `before` is the id to page from. */
  list(page: { limit: number; before?: number | undefined }): Promise<Action[]>
  /**
   * Do `work` and record it: its summary when it succeeds, the error's code and message (and
   * `partial()`, what was done before it) when it fails, then rethrown. A failure to write the
   * record is logged, never turned into a failure of work that was done.
   */
  around<T>(
    entry: Omit<ActionEntry, 'result'>,
    work: () => Promise<T>,
    summarize: (result: T) => Record<string, unknown>,
    partial?: () => Record<string, unknown>
  ): Promise<T>
}

export function createActionLog(deps: { ledger: Pick<LifecycleStore, 'addAction' | 'listActions'>; clock: () => Date; logger: Logger }): ActionLog {
  const record = (entry: ActionEntry) => deps.ledger.addAction({ ...entry, at: deps.clock() })
  const recordQuietly = async (entry: ActionEntry) => {
    try {
      await record(entry)
    } catch (err) {
      deps.logger.error({ err, kind: entry.kind, operator: entry.operator }, 'could not record the action')
    }
  }
  return {
    record,
    list: (page) => deps.ledger.listActions(page),
    async around(entry, work, summarize, partial) {
      let result
      try {
        result = await work()
      } catch (err) {
        await recordQuietly({ ...entry, result: { ...partial?.(), ...errorSummary(err) } })
        throw err
      }
      await recordQuietly({ ...entry, result: summarize(result) })
      return result
    }
  }
}

/** What was asked, for the log: the fields as they were given, without empty ones. */
export function asked(input: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && v !== null && v !== ''))
}

/** The instants relative or zone-less times resolved to, beside them in the log. */
export function resolvedTimes(f: { since?: Date | undefined; until?: Date | undefined }): Record<string, string> {
  return {
    ...(f.since ? { since: f.since.toISOString() } : {}),
    ...(f.until ? { until: f.until.toISOString() } : {})
  }
}

function errorSummary(err: unknown): Record<string, unknown> {
  const e = err as { code?: unknown; message?: unknown; statusCode?: unknown }
  return {
    error: typeof e.code === 'string' ? e.code.toLowerCase() : 'internal',
    message: typeof e.message === 'string' ? e.message : String(err),
    ...(typeof e.statusCode === 'number' ? { status: e.statusCode } : {})
  }
}
