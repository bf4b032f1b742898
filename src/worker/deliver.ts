// One delivery, one attempt: message → ESB → mark esb_accepted → Knack status. Every exit path
// records an attempt and leaves the row in a contract status with the lease released.
// Whose fault an ESB failure is decides what it costs: an answer about the record uses one of
// the delivery's attempts (RETRY_SCHEDULE, then dead); the endpoint's own trouble — or a fault
// every record gets, once the gate has paused for it — is retried soon and costs none.
import type { Logger } from 'pino'
import type { EsbClient } from '../clients/esb/types.js'
import type { KnackClient } from '../clients/knack/types.js'
import type { AppConfig } from '../config/types.js'
import { isKnackFailure } from '../errors.js'
import type { Events } from '../events/types.js'
import type { AttemptRecord, Delivery, DeliveryStatus, Ledger } from '../ledger/types.js'
import { parseActivity } from '../message/activity.js'
import { planMessage } from '../message/plan.js'
import type { Metrics } from '../observability/metrics.js'
import type { ReportResult, SendGate } from './esb-gate.js'
import { checkWithKnack, needsKnackCheck } from './knack-check.js'
import { endpointRetryAt, nextRetry } from './retry.js'

export interface DeliverDeps {
  ledger: Ledger
  knack: KnackClient
  esb: EsbClient
  apps: ReadonlyMap<string, AppConfig>
  clock: () => Date
  logger: Logger
  metrics?: Metrics | undefined
  events?: Events | undefined
  retryScheduleMs: readonly number[]
  /** Pause, don't kill: every ESB answer is reported here (absent: each answer is judged alone). */
  gate?: SendGate | undefined
  /** ESB_PROBE_EVERY: the longest an endpoint failure waits before the next try. */
  probeEveryMs?: number | undefined
  /** WEBHOOK_VERIFY (default true): a webhook body is read back from Knack before it is sent. */
  webhookVerify?: boolean | undefined
}

/** Endpoint failures are retried at most this far apart until the gate pauses (then the probe
 *  takes over): a short, bounded backoff, not RETRY_SCHEDULE. Below the worker's idle horizon,
 *  so a waiting sweep keeps waiting until the delivery goes or sending pauses. */
export const ENDPOINT_RETRY_CAP_MS = 2000

const MAX_STORED_RESPONSE = 4000

export async function deliver(deps: DeliverDeps, d: Delivery): Promise<DeliveryStatus> {
  const { ledger, clock } = deps
  const log = deps.logger.child({ delivery: d.id, app: d.app, record: d.recordId })
  const attempt = d.attempts + 1
  // The lease this attempt holds: every write below is refused once another worker took it over.
  const owner = d.leaseOwner
  let accepted = d.esbAcceptedAt !== null
  // The step that ends this attempt, written with the status it leads to (one transaction).
  let step: AttemptRecord | undefined

  const record = (kind: AttemptRecord['step'], outcome: string, detail: string | null, startedAt: Date) => {
    step = { n: attempt, step: kind, outcome, detail, startedAt, finishedAt: clock() }
  }
  const finish = async (status: DeliveryStatus, lastError: string | null, nextAttemptAt?: Date, attempts = attempt) => {
    const written = await ledger.finish(d.id, { owner, attempt: step, status, attempts, lastError, nextAttemptAt, now: clock() })
    if (!written) {
      log.warn({ status, lastError }, 'lease taken over by another worker: its result stands, this one is dropped')
      return null
    }
    deps.metrics?.deliveries.inc({ app: d.app, outcome: status })
    return status
  }
  const die = async (reason: string, markKnack = true) => {
    log.warn({ reason }, 'delivery dead')
    if (!accepted && markKnack) await markKnackFailed(deps, d, reason, log)
    const status = await finish('dead', reason)
    if (status === null) return 'sending'
    deps.events?.emit({ type: 'delivery.dead', at: clock(), delivery: { id: d.id, app: d.app, recordId: d.recordId, srNumber: d.srNumber }, reason })
    return status
  }
  const later = async (reason: string) => {
    const decision = nextRetry(deps.retryScheduleMs, attempt, clock())
    if (decision.kind === 'give_up') return die(`gave up after ${attempt} attempts: ${reason}`)
    log.info({ reason, retryAt: decision.at.toISOString() }, 'delivery will retry')
    return (await finish(accepted ? 'esb_accepted' : 'failed', reason, decision.at)) ?? 'sending'
  }
  /** Not the record's fault: try again soon, with its attempts unchanged. */
  const soon = async (reason: string, gate: ReportResult) => {
    const at = endpointRetryAt(clock(), gate.endpointFailures, Math.min(deps.probeEveryMs ?? ENDPOINT_RETRY_CAP_MS, ENDPOINT_RETRY_CAP_MS))
    log.info({ reason, retryAt: at.toISOString(), paused: gate.paused }, 'ESB endpoint trouble: delivery will retry, attempts unchanged')
    return (await finish('failed', reason, at, d.attempts)) ?? 'sending'
  }
  const report = async (r: Parameters<SendGate['report']>[0]): Promise<ReportResult> =>
    deps.gate ? deps.gate.report(r) : { paused: false, endpointFailures: r.kind === 'endpoint' ? 1 : 0 }

  const app = deps.apps.get(d.app)
  if (!app) return die(`app "${d.app}" is not configured`)

  try {
    let finalStatus: DeliveryStatus = 'sent'
    let knackStatus = app.statuses.sent
    if (!accepted) {
      let current = d
      if (needsKnackCheck(d, deps.webhookVerify ?? true)) {
        const startedAt = clock()
        const check = await checkWithKnack(deps, app, d)
        if (check.kind === 'lost') {
          log.warn('lease taken over while reading the record from Knack: the new owner carries on')
          return 'sending'
        }
        if (check.kind !== 'send') {
          record('knack', check.outcome, check.reason, startedAt)
          if (check.kind === 'dead') return die(check.reason, check.markKnack)
          if (check.kind === 'retry') return later(check.reason)
          log.info({ reason: check.reason }, 'webhook body not sent')
          return (await finish('skipped', check.reason)) ?? 'sending'
        }
        current = check.delivery
        if (current.contentHash !== d.contentHash) log.info('Knack holds other content than the webhook body: Knack\'s is sent')
      }
      const startedAt = clock()
      const parsed = parseActivity(app, current.record)
      if (!parsed.ok) {
        const reason = `record invalid: ${parsed.problems.map((p) => `${p.field} ${p.message}`).join('; ')}`
        record('build', 'invalid', reason, startedAt)
        return die(reason)
      }
      let plan
      try {
        plan = planMessage(app, parsed.activity, clock())
      } catch (err) {
        const reason = (err as Error).message
        record('build', 'unmapped', reason, startedAt)
        return die(reason)
      }
      if (plan.kind === 'skip') {
        finalStatus = 'skipped'
        knackStatus = app.statuses.skipped
        log.info({ reason: plan.reason }, 'activity not sent to the ESB')
      } else {
        const outcome = await deps.esb.send(plan.xml)
        if (outcome.kind === 'record') {
          const gate = await report({ kind: 'record', deliveryId: d.id, error: outcome.reason })
          if (!gate.paused) {
            record('esb', 'failed', outcome.reason, startedAt)
            return later(`ESB: ${outcome.reason}`)
          }
          // Every record is getting it (the gate paused for it): the endpoint's trouble, not this record's.
          record('esb', 'endpoint', `${outcome.reason} (sending paused: not counted against this delivery)`, startedAt)
          return soon(`ESB: ${outcome.reason}`, gate)
        }
        if (outcome.kind === 'endpoint') {
          const gate = await report({ kind: 'endpoint', error: outcome.reason, credentials: outcome.credentials })
          // A time-out after the body went out: the ESB may have it. Recorded as such, so that a
          // later yes marks the delivery a possible duplicate.
          record('esb', outcome.unknownOutcome ? 'timeout' : 'endpoint', outcome.reason, startedAt)
          return soon(`ESB: ${outcome.reason}`, gate)
        }
        await report({ kind: 'success' })
        record('esb', 'accepted', outcome.tries > 1 ? `HTTP ${outcome.status} (${outcome.tries} tries)` : `HTTP ${outcome.status}`, startedAt)
        // Written before Knack is touched: from here on a retry repeats only the Knack update.
        const owned = await ledger.markEsbAccepted(d.id, {
          owner,
          esbResponse: outcome.body.slice(0, MAX_STORED_RESPONSE),
          esbRequest: plan.xml,
          now: clock(),
          attempt: step,
          possibleDuplicate: await timedOutBefore(ledger, d)
        })
        step = undefined
        if (!owned) {
          log.warn('ESB accepted after the lease was taken over: the delivery is marked a possible duplicate, the new owner carries on')
          return 'sending'
        }
        accepted = true
        log.info('ESB accepted')
      }
    }

    const startedAt = clock()
    try {
      await deps.knack.updateStatus(app, d.recordId, knackStatus)
    } catch (err) {
      const reason = `Knack status update: ${(err as Error).message}`
      record('knack', 'failed', reason, startedAt)
      if (isKnackFailure(err) && !err.retryable) return die(reason)
      return later(reason)
    }
    record('knack', 'updated', knackStatus, startedAt)
    const done = await finish(finalStatus, null)
    if (done !== null) log.info({ status: finalStatus }, 'delivery done')
    return done ?? 'sending'
  } catch (err) {
    // The ledger or something unexpected failed: keep the row and try again later.
    log.error({ err }, 'delivery attempt failed unexpectedly')
    return later(`internal: ${(err as Error).message}`)
  }
}

/** An earlier try of this delivery timed out after its message was sent (only a delivery that
 *  failed before can have one: a first try costs no read). */
async function timedOutBefore(ledger: Ledger, d: Delivery): Promise<boolean> {
  if (d.attempts === 0 && d.lastError === null) return false
  return (await ledger.attempts(d.id)).some((a) => a.step === 'esb' && a.outcome === 'timeout')
}

/** Best effort: show a dead delivery in Knack when the app names a `failed` status. */
async function markKnackFailed(deps: DeliverDeps, d: Delivery, reason: string, log: Logger): Promise<void> {
  const app = deps.apps.get(d.app)
  if (!app?.statuses.failed) return
  try {
    await deps.knack.updateStatus(app, d.recordId, app.statuses.failed)
  } catch (err) {
    log.warn({ err: (err as Error).message, reason }, 'could not mark the record failed in Knack')
  }
}
