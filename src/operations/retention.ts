// RETENTION in the running service: a prune at start-up (in the background, after the service
// is ready) and then once a day. On shutdown the prune in progress stops between two batches.
// With replicas on PostgreSQL every replica prunes; their batches skip each other's locked rows.
import type { Logger } from 'pino'
import { SYSTEM_OPERATOR } from './actions.js'
import type { Pruner } from './prune.js'

export const DAY_MS = 86_400_000

export interface RetentionDeps {
  pruner: Pick<Pruner, 'prune'>
  /** null: RETENTION=off, nothing is pruned. */
  retentionMs: number | null
  logger: Logger
  /** Between prunes (default a day). */
  everyMs?: number
}

export interface Retention {
  start(): void
  /** No new prune; the running one stops after its current batch. */
  stop(): Promise<void>
  /** Resolves when the prune now running (if any) has ended: for tests. */
  idle(): Promise<void>
}

export function createRetention(deps: RetentionDeps): Retention {
  const everyMs = deps.everyMs ?? DAY_MS
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()
  let abort: AbortController | undefined
  let stopped = true

  function runNow() {
    abort = new AbortController()
    const signal = abort.signal
    running = deps.pruner
      .prune({}, SYSTEM_OPERATOR, { signal })
      .then(
        () => undefined,
        // Logged and kept as the last prune's error; tomorrow's run tries again.
        (err: unknown) => deps.logger.error({ err }, 'retention prune failed')
      )
      .finally(() => {
        if (!stopped) {
          timer = setTimeout(runNow, everyMs)
          timer.unref()
        }
      })
  }

  return {
    start() {
      if (!stopped) return
      if (deps.retentionMs === null) {
        deps.logger.info('RETENTION is off: deliveries are kept')
        return
      }
      stopped = false
      runNow()
    },
    async stop() {
      stopped = true
      clearTimeout(timer)
      abort?.abort()
      await running
    },
    idle: () => running
  }
}
