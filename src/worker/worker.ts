// The delivery loop: claim due deliveries from the ledger (it enforces one-at-a-time per service
// request), run each through deliver(), bounded in concurrency. Woken by intake, by finished
// deliveries and by the next due time; polls at most every pollMs for work other processes queued.
import { randomUUID } from 'node:crypto'
import type { Delivery } from '../ledger/types.js'
import { deliver, type DeliverDeps } from './deliver.js'

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
      const free = opts.concurrency - inFlight.size
      try {
        if (free > 0) claimed = await deps.ledger.claim(owner, free, opts.leaseMs, deps.clock())
      } catch (err) {
        deps.logger.error({ err }, 'claim failed')
      }
      for (const d of claimed) run(d)
      if (claimed.length === 0 && inFlight.size === 0) waiters.forEach((w) => w())
      else idleWaiters.push(...waiters)
      if (!running) break
      if (free > 0 && claimed.length === free) continue
      // Every slot busy: a finishing delivery wakes the loop. Asking nextDueAt here would answer
      // "due now" for the backlog and spin the loop (and the database) every 5 ms.
      await sleep(free > 0 ? await sleepMs() : pollMs)
    }
  }

  async function sleepMs(): Promise<number> {
    try {
      const next = await deps.ledger.nextDueAt()
      if (!next) return pollMs
      return Math.min(pollMs, Math.max(5, next.getTime() - deps.clock().getTime()))
    } catch {
      return pollMs
    }
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
