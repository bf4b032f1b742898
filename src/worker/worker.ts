// The delivery loop: claim due deliveries from the ledger (it enforces one-at-a-time per service
// request), run each through deliver(), bounded in concurrency. Woken by intake, by finished
// deliveries and by the next due time; polls at most every pollMs for work other processes queued.
// While sending to the ESB is paused (the gate), it claims only Knack work plus, once per
// ESB_PROBE_EVERY across every process, one probe delivery.
import { randomUUID } from 'node:crypto'
import type { Delivery, EsbGate } from '../ledger/types.js'
import { deliver, ENDPOINT_RETRY_CAP_MS, type DeliverDeps } from './deliver.js'

/** A delivery due again within this long still counts as work (an endpoint failure is retried
 *  within ENDPOINT_RETRY_CAP_MS), so whenIdle does not answer between two tries of a flaky
 *  gateway, only once the work is done or sending paused. */
const IDLE_HORIZON_MS = ENDPOINT_RETRY_CAP_MS + 500

export interface WorkerOptions {
  concurrency: number
  leaseMs: number
  /** Longest sleep between claims when nothing wakes the loop. */
  pollMs?: number
  /** Process-unique owner name written on leases. */
  owner?: string
}

export interface Worker {
  readonly owner: string
  start(): void
  /** New work may be due: claim now instead of at the next poll. */
  wake(): void
  /** Resolves true when a claim made after this call found nothing and nothing is in flight;
   *  false when timeoutMs passes first. */
  whenIdle(timeoutMs: number): Promise<boolean>
  /** Stop claiming, let in-flight deliveries finish for up to graceMs. */
  stop(graceMs: number): Promise<void>
}

export function createWorker(deps: DeliverDeps, opts: WorkerOptions): Worker {
  const owner = opts.owner ?? `worker-${randomUUID()}`
  const pollMs = opts.pollMs ?? 1000
  const inFlight = new Set<Promise<unknown>>()
  let running = false
  let loopDone: Promise<void> = Promise.resolve()
  let wakeUp: (() => void) | null = null
  let pendingWake = false
  let idleWaiters: Array<() => void> = []

  const wake = () => {
    pendingWake = true
    wakeUp?.()
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (pendingWake) return resolve()
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        wakeUp = null
        resolve()
      }
      wakeUp = done
    })

  const run = (d: Delivery) => {
    const p = deliver(deps, d)
      .catch((err: unknown) => deps.logger.error({ err, delivery: d.id, app: d.app, record: d.recordId }, 'delivery crashed'))
      .finally(() => {
        inFlight.delete(p)
        wake()
      })
    inFlight.add(p)
  }

  async function loop() {
    while (running) {
      pendingWake = false
      const waiters = idleWaiters
      idleWaiters = []
      let claimed: Delivery[] = []
      let gate: EsbGate | undefined
      const free = opts.concurrency - inFlight.size
      try {
        if (free > 0) {
          gate = await deps.gate?.current()
          claimed = await claimSome(free, gate)
        }
      } catch (err) {
        deps.logger.error({ err }, 'claim failed')
      }
      for (const d of claimed) run(d)
      const paused = gate?.state === 'paused'
      // Paused: nothing more will go until a probe succeeds, so waiting callers (a sweep's
      // ?wait=true, `knack311 sweep`) are told at once rather than at their deadline.
      const next = claimed.length === 0 && inFlight.size === 0 && !paused ? await nextDue() : undefined
      const soon = next != null && next.getTime() - deps.clock().getTime() <= IDLE_HORIZON_MS
      if (claimed.length === 0 && inFlight.size === 0 && !soon) waiters.forEach((w) => w())
      else idleWaiters.push(...waiters)
      if (!running) break
      if (free > 0 && claimed.length === free) continue
      // Every slot busy: a finishing delivery wakes the loop. Asking nextDueAt here would answer
      // "due now" for the backlog and spin the loop (and the database) every 5 ms. Paused, the
      // backlog is due too but not claimable: sleep until the probe slot.
      await sleep(free > 0 ? (paused ? untilProbe(gate) : await sleepMs(next)) : pollMs)
    }
  }

  async function claimSome(free: number, gate: EsbGate | undefined): Promise<Delivery[]> {
    const now = deps.clock()
    if (gate?.state !== 'paused' || !deps.gate) return deps.ledger.claim(owner, free, opts.leaseMs, now)
    const knackOnly = await deps.ledger.claim(owner, free, opts.leaseMs, now, 'knack')
    if (knackOnly.length < free && (await deps.gate.takeProbe())) {
      const probe = await deps.ledger.claim(owner, 1, opts.leaseMs, now, 'esb')
      if (probe.length > 0) deps.logger.info({ delivery: probe[0]?.id }, 'ESB paused: probing with one delivery')
      return [...knackOnly, ...probe]
    }
    return knackOnly
  }

  function untilProbe(gate: EsbGate | undefined): number {
    const at = gate?.probeAt?.getTime()
    if (at === undefined) return pollMs
    return Math.min(pollMs, Math.max(5, at - deps.clock().getTime()))
  }

  async function nextDue(): Promise<Date | null> {
    try {
      return await deps.ledger.nextDueAt()
    } catch {
      return null
    }
  }

  async function sleepMs(known: Date | null | undefined): Promise<number> {
    const next = known === undefined ? await nextDue() : known
    if (!next) return pollMs
    return Math.min(pollMs, Math.max(5, next.getTime() - deps.clock().getTime()))
  }

  return {
    owner,
    start() {
      if (running) return
      running = true
      loopDone = loop()
    },
    wake,
    whenIdle(timeoutMs) {
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          idleWaiters = idleWaiters.filter((w) => w !== onIdle)
          resolve(false)
        }, timeoutMs)
        function onIdle() {
          clearTimeout(timer)
          resolve(true)
        }
        idleWaiters.push(onIdle)
        wake()
      })
    },
    async stop(graceMs) {
      running = false
      wake()
      await loopDone
      const drained = Promise.allSettled([...inFlight])
      let timer: NodeJS.Timeout | undefined
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs)
      })
      await Promise.race([drained, grace])
      clearTimeout(timer)
      idleWaiters.forEach((w) => w())
      idleWaiters = []
    }
  }
}
