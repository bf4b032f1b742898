// When sending to the ESB pauses and resumes: pure rules over the gate row the ledger shares
// between processes (src/ledger/types.ts EsbGate). The caller applies them under the store's
// write lock, so the streaks count every process's answers and one process makes each change.
//
// - A success resets both streaks; while paused it resumes sending.
// - An endpoint failure (404, 5xx without a fault, time-out, refused connection, 401/403, TLS)
//   adds one to the endpoint streak; ESB_PAUSE_AFTER in a row pause sending.
// - An answer about the record (a SOAP fault, 400/422) adds its delivery to the record streak;
//   ESB_PAUSE_AFTER different deliveries in a row with no success between them pause sending:
//   the 2021 "Internal Error" outage, when every record got the same fault. One record that
//   always faults while others go through never fills the streak: each success empties it.
import type { EsbGate, EsbPauseCause } from '../ledger/types.js'

export type GateReport =
  | { kind: 'success' }
  | { kind: 'endpoint'; error: string; credentials: boolean }
  | { kind: 'record'; deliveryId: number; error: string }

export interface GateRules {
  pauseAfter: number
  probeEveryMs: number
}

/** The gate after `report` at `now`, or null when nothing changes. */
export function applyReport(g: EsbGate, report: GateReport, rules: GateRules, now: Date): EsbGate | null {
  if (report.kind === 'success') {
    if (g.state === 'ok' && g.endpointFailures === 0 && g.recordFailures.length === 0) return null
    return {
      ...g,
      state: 'ok',
      since: g.state === 'paused' ? now : g.since,
      cause: null,
      endpointFailures: 0,
      recordFailures: [],
      probeAt: null,
      updatedAt: now
    }
  }
  const cause: EsbPauseCause = report.kind === 'record' ? 'record' : report.credentials ? 'credentials' : 'endpoint'
  const next: EsbGate = { ...g, lastError: report.error, updatedAt: now }
  if (report.kind === 'endpoint') next.endpointFailures = g.endpointFailures + 1
  else if (!g.recordFailures.includes(report.deliveryId)) next.recordFailures = [...g.recordFailures, report.deliveryId].slice(-rules.pauseAfter)

  // While paused the cause follows the newest failure: it is what /readyz should say now.
  if (g.state === 'paused') return { ...next, cause }
  const full = report.kind === 'endpoint' ? next.endpointFailures >= rules.pauseAfter : next.recordFailures.length >= rules.pauseAfter
  if (!full) return next
  return { ...next, state: 'paused', since: now, cause, probeAt: new Date(now.getTime() + rules.probeEveryMs) }
}

/** Take the probe slot: the gate with the next slot moved one period on, or null when it is not due. */
export function takeProbeSlot(g: EsbGate, rules: GateRules, now: Date): EsbGate | null {
  if (g.state !== 'paused') return null
  if (g.probeAt !== null && g.probeAt > now) return null
  return { ...g, probeAt: new Date(now.getTime() + rules.probeEveryMs), updatedAt: now }
}
