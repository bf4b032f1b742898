// Nothing accepted is lost: the service is SIGKILLed in the middle of a sweep's deliveries and
// a new process on the same SQLite file finishes them, resending at most what was in flight.
import t from 'tap'
import { startServiceChild, type ServiceChild } from '../helpers/child.js'
import { esbCountsByRecord, shuffled, waitForKnackStatus } from '../helpers/pipeline.js'
import { activity, startStack, waitFor } from '../helpers/stack.js'

const app = 'data-tracker'
const CONCURRENCY = 8

t.test('SIGKILL mid-sweep, restart on the same database: every record sent, duplicates <= in flight', async (t) => {
  const stack = await startStack({
    buildService: false,
    esbLatencyMs: 300,
    // A long lease: only the start-up release (not lease expiry) can resume the dead process's rows.
    env: { WORKER_CONCURRENCY: String(CONCURRENCY), RETRY_SCHEDULE: '50ms,100ms,200ms', LEASE_DURATION: '10m' }
  })
  t.teardown(() => stack.close())
  const children: ServiceChild[] = []
  // Registered after stack.close, so it runs first: no child outlives the test, whatever happened.
  t.teardown(async () => {
    await Promise.all(children.map((c) => c.kill('SIGKILL')))
  })

  const atdIds = shuffled(Array.from({ length: 60 }, (_, i) => 20_000 + i), 7)
  const acts = atdIds.map((atdActivityId, i) => activity({ atdActivityId, srNumber: `26-C-${String(i % 30).padStart(2, '0')}` }))
  stack.seed(app, acts)
  const auth = { authorization: `Bearer ${stack.env.ADMIN_TOKEN ?? ''}` }

  const first = await startServiceChild(stack.env)
  children.push(first)
  const sweep = await fetch(`${first.url}/apps/${app}/sweep`, { method: 'POST', headers: auth })
  t.equal(sweep.status, 200, 'sweep accepted')
  t.equal(((await sweep.json()) as { queued: number }).queued, 60, 'all 60 queued on disk')

  await stack.esbSim.waitForReceived(10, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}\n--- first child ---\n${first.output()}`)
  })
  await first.kill('SIGKILL')
  const atKill = stack.esbSim.received.length
  t.ok(atKill < 60, `killed part-way (${atKill} of 60 at the ESB)`)

  const second = await startServiceChild(stack.env)
  children.push(second)
  await waitForKnackStatus(stack, app, acts.map((a) => a.id), 'SENT', 90_000).catch((err: Error) => {
    throw new Error(`${err.message}\n--- second child ---\n${second.output()}`)
  })

  // The ledger of the new process agrees: every delivery sent.
  const rows = await waitFor(async () => {
    const res = await fetch(`${second.url}/deliveries?app=${app}&limit=1000`, { headers: auth })
    const list = (await res.json()) as Array<{ status: string }>
    return list.length === 60 && list.every((d) => d.status === 'sent') ? list : undefined
  }, 30_000, 'every delivery to be sent in the ledger')
  t.equal(rows.length, 60, 'sixty deliveries, all sent')

  const counts = esbCountsByRecord(stack)
  t.same([...counts.keys()].sort(), acts.map((a) => a.id).sort(), 'every record reached the ESB at least once')
  const duplicates = stack.esbSim.received.length - counts.size
  t.ok(duplicates <= CONCURRENCY, `duplicate ESB messages ${duplicates} <= WORKER_CONCURRENCY ${CONCURRENCY}`)
  t.ok([...counts.values()].every((n) => n <= 2), 'no record more than twice (once per process)')
  t.match(second.output(), /resuming deliveries left in flight by an earlier process/, 'the new process released the dead leases')
})
