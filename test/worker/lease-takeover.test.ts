// Ledger writes keep their promise when a lease runs out mid-attempt: the worker that lost its
// lease cannot overwrite the result of the worker that took the delivery over, and an ESB yes it
// gets late is kept on record as a possible duplicate instead of being lost.
import { pino } from 'pino'
import t from 'tap'
import { createWorker, type Worker } from '../../src/worker/worker.js'
import type { DeliverDeps } from '../../src/worker/deliver.js'
import type { Stack } from '../../src/sandbox/stack.js'
import { getDelivery } from '../helpers/pipeline.js'
import { activity, knackRecord, knackStatus, startStack, waitFor, waitForStatus } from '../helpers/stack.js'

const app = 'data-tracker'

function workerDeps(stack: Stack): DeliverDeps {
  const deps = stack.deps
  if (!deps) throw new Error('stack has no deps')
  return {
    ledger: deps.ledger,
    knack: deps.knack,
    esb: deps.esb,
    apps: stack.config.apps,
    clock: () => new Date(),
    logger: pino({ level: 'silent' }),
    retryScheduleMs: [50, 100, 200]
  }
}

async function queueOne(t: { pass(msg: string): void }, stack: Stack): Promise<{ id: number; recordId: string }> {
  const act = activity()
  stack.seed(app, [act])
  const outcome = await stack.app!.service.intake.swept(stack.appConfig(app), knackRecord(stack, app, act.id)!)
  if (outcome.status !== 'queued') throw new Error(`not queued: ${outcome.status}`)
  t.pass(`delivery ${outcome.delivery.id} queued`)
  return { id: outcome.delivery.id, recordId: act.id }
}

t.test("a late failure from the worker that lost its lease does not overwrite the new owner's result", async (t) => {
  // ESB answers take 700 ms; worker A's lease is 300 ms, so B takes the delivery over mid-attempt.
  const stack = await startStack({ startWorker: false, esbLatencyMs: 700 })
  const workers: Worker[] = []
  t.teardown(async () => {
    await Promise.all(workers.map((w) => w.stop(5_000)))
    await stack.close()
  })
  const { id, recordId } = await queueOne(t, stack)
  // A's message arrives first and gets a fault; B's, sent after the takeover, is accepted.
  stack.esbSim.failNext(1, { code: 'env:Server', string: 'Busy' })

  const a = createWorker(workerDeps(stack), { concurrency: 1, leaseMs: 300, owner: 'worker-A', pollMs: 50 })
  workers.push(a)
  a.start()
  await waitFor(() => stack.esbSim.attempts >= 1 || undefined, 10_000, "A's request to reach the ESB")
  await waitFor(async () => ((await stack.deps!.ledger.get(id))!.leaseUntil!.getTime() <= Date.now()) || undefined, 5_000, "A's lease to run out")
  const b = createWorker(workerDeps(stack), { concurrency: 1, leaseMs: 60_000, owner: 'worker-B', pollMs: 50 })
  workers.push(b)
  b.start()

  const d = await waitForStatus(stack, id, ['sent', 'dead', 'failed'], 20_000)
  t.equal(d.status, 'sent', "B's result stands")
  await a.stop(5_000)
  const view = await getDelivery(stack, id)
  t.equal(view.status, 'sent', "A's late failure changed nothing")
  t.equal(view.last_error, null, "A's fault is not the delivery's last error")
  t.same(view.history.map((h) => `${h.step}:${h.outcome}`), ['esb:accepted', 'knack:updated'], "only B's steps are in the history")
  t.equal(stack.esbSim.attempts, 2, 'both workers reached the ESB')
  t.equal(stack.esbSim.received.length, 1, 'one message accepted')
  t.equal(knackStatus(stack, app, recordId), 'SENT')
})

t.test('an ESB yes that arrives after the lease was taken over is kept: possible duplicate', async (t) => {
  const stack = await startStack({ startWorker: false, esbLatencyMs: 700 })
  const workers: Worker[] = []
  t.teardown(async () => {
    await Promise.all(workers.map((w) => w.stop(5_000)))
    await stack.close()
  })
  const { id, recordId } = await queueOne(t, stack)

  const a = createWorker(workerDeps(stack), { concurrency: 1, leaseMs: 300, owner: 'worker-A', pollMs: 50 })
  workers.push(a)
  a.start()
  await waitFor(() => stack.esbSim.attempts >= 1 || undefined, 10_000, "A's request to reach the ESB")
  await waitFor(async () => ((await stack.deps!.ledger.get(id))!.leaseUntil!.getTime() <= Date.now()) || undefined, 5_000, "A's lease to run out")
  const b = createWorker(workerDeps(stack), { concurrency: 1, leaseMs: 60_000, owner: 'worker-B', pollMs: 50 })
  workers.push(b)
  b.start()

  await waitForStatus(stack, id, ['sent', 'dead'], 20_000)
  const view = await waitFor(async () => {
    const v = await getDelivery(stack, id)
    return v.history.length === 3 ? v : undefined
  }, 10_000, 'both ESB answers to be on record')
  t.equal(view.status, 'sent')
  t.equal((view as unknown as { possible_duplicate: boolean }).possible_duplicate, true, 'marked a possible duplicate')
  const esbSteps = view.history.filter((h) => h.step === 'esb')
  t.equal(esbSteps.length, 2, 'both yeses recorded')
  t.ok(esbSteps.some((h) => /lost its lease/.test(h.detail ?? '')), "A's late yes says so")
  t.equal(stack.esbSim.received.length, 2, 'the ESB holds it twice: exactly what the mark warns about')
  t.equal(knackStatus(stack, app, recordId), 'SENT')
  const puts = stack.knackSim.stats().puts.filter((p) => p.id === recordId)
  t.equal(puts.length, 1, 'Knack updated once, by the owner')
})
