// SIGTERM: the service stops taking requests, lets the deliveries in flight finish, closes the
// database and exits 0. Nothing that was in flight is left half done.
import t from 'tap'
import { startServiceChild } from '../helpers/child.js'
import { activity, startStack, waitFor } from '../helpers/stack.js'
import { openLedger } from '../../src/ledger/open.js'

const app = 'data-tracker'

t.test('SIGTERM lets in-flight deliveries finish, then exits 0', async (t) => {
  const stack = await startStack({ buildService: false, esbLatencyMs: 1500 })
  t.teardown(() => stack.close())
  const acts = [activity(), activity(), activity()]
  stack.seed(app, acts)
  const child = await startServiceChild(stack.env)
  t.teardown(() => child.kill('SIGKILL'))

  const sweep = await fetch(`${child.url}/apps/${app}/sweep`, { method: 'POST', headers: { authorization: `Bearer ${stack.env.ADMIN_TOKEN}` } })
  t.equal(sweep.status, 200)
  // Wait until the ESB has the requests open (1.5 s latency), then ask the process to stop.
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    const ledger = await openLedger(stack.env.DATABASE_URL ?? '')
    const sending = (await ledger.list({ status: 'sending', limit: 10 })).length
    await ledger.close()
    if (sending === acts.length) break
    await new Promise((r) => setTimeout(r, 50))
  }
  process.kill(child.pid, 'SIGTERM')
  // The signal is handled on the child's next turn: ask only once it says it is shutting down.
  await waitFor(() => /"shutting down"/.test(child.output()) || undefined, 10_000, 'the child to log that it is shutting down')
  const refused = await fetch(`${child.url}/healthz`).then((r) => r.status, () => 'closed')
  t.not(refused, 200, 'no new requests once shutting down')
  t.equal(await child.exited, 0, `exits 0\n${child.output()}`)

  t.equal(stack.esbSim.received.length, acts.length, 'the in-flight sends completed')
  const ledger = await openLedger(stack.env.DATABASE_URL ?? '')
  t.teardown(() => ledger.close())
  const rows = await ledger.list({ app, limit: 10 })
  t.same(rows.map((d) => d.status).sort(), ['sent', 'sent', 'sent'], 'and were recorded sent before the database closed')
})
