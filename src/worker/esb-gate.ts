// Pause, don't kill: the worker reports every ESB answer here; after ESB_PAUSE_AFTER failures of
// the endpoint itself (or the same fault for every record) sending pauses, claims hand out only
// Knack work plus one probe delivery every ESB_PROBE_EVERY, and the first success resumes. The
// state is one ledger row shared by every process on the store; the process whose change flips
// it logs it and announces esb.paused / esb.resumed, so each transition is announced once.
import type { Logger } from 'pino'
import type { Events } from '../events/types.js'
import type { EsbGate, Ledger } from '../ledger/types.js'
import type { Metrics } from '../observability/metrics.js'
import { applyReport, takeProbeSlot, type GateReport, type GateRules } from './esb-gate-rules.js'

export type { GateReport } from './esb-gate-rules.js'

export interface SendGateDeps extends GateRules {
  ledger: Ledger
  clock: () => Date
  logger: Logger
  events?: Events | undefined
  metrics?: Metrics | undefined
}

export interface ReportResult {
  /** Sending is paused after this report (so a failure now is the endpoint's, not the record's). */
  paused: boolean
  /** The endpoint streak after this report. */
  endpointFailures: number
}

export interface SendGate {
  report(report: GateReport): Promise<ReportResult>
  /** While paused: take the shared probe slot if it is due; true = hand out one ESB delivery. */
  takeProbe(): Promise<boolean>
  current(): Promise<EsbGate>
}

export function createSendGate(deps: SendGateDeps): SendGate {
  const rules: GateRules = { pauseAfter: deps.pauseAfter, probeEveryMs: deps.probeEveryMs }
  const log = deps.logger.child({ component: 'esb-gate' })

  function announce(before: EsbGate, after: EsbGate): void {
    const at = deps.clock()
    if (before.state === 'ok' && after.state === 'paused' && after.since) {
      log.warn({ since: after.since.toISOString(), cause: after.cause, lastError: after.lastError, probeEveryMs: rules.probeEveryMs }, 'ESB sending paused')
      deps.metrics?.esbPauses.inc({ cause: after.cause ?? 'endpoint' })
      deps.events?.emit({ type: 'esb.paused', at, since: after.since, lastError: after.lastError ?? '' })
    } else if (before.state === 'paused' && after.state === 'ok') {
      const pausedSince = before.since ?? at
      log.info({ pausedSince: pausedSince.toISOString(), pausedMs: at.getTime() - pausedSince.getTime(), lastError: before.lastError }, 'ESB sending resumed')
      deps.events?.emit({ type: 'esb.resumed', at, pausedSince, lastError: before.lastError })
    }
  }

  return {
    async report(report) {
      try {
        const { before, after } = await deps.ledger.updateEsbGate((g) => applyReport(g, report, rules, deps.clock()))
        announce(before, after)
        return { paused: after.state === 'paused', endpointFailures: after.endpointFailures }
      } catch (err) {
        // The ledger is failing too; the delivery's own bookkeeping will notice. Judge the answer alone.
        log.error({ err }, 'could not update the ESB gate')
        return { paused: false, endpointFailures: report.kind === 'endpoint' ? 1 : 0 }
      }
    },
    async takeProbe() {
      let took = false
      await deps.ledger.updateEsbGate((g) => {
        const next = takeProbeSlot(g, rules, deps.clock())
        took = next !== null
        return next
      })
      return took
    },
    current: () => deps.ledger.esbGate()
  }
}
