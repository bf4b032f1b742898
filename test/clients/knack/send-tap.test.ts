// The send tap (src/clients/knack/send-tap.ts) against a real HTTP server on 127.0.0.1, and
// the Knack client counting from the write through it.
import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Pool } from 'undici'
import { createSendTap } from '../../../src/clients/knack/send-tap.js'
import { createKnackClient } from '../../../src/clients/knack/client.js'
import { startKnackSimulator, appSpecFor } from '../../../src/sandbox/knack-simulator.js'
import { testApp, activity } from './fixtures.js'

t.test('reports the write of a tracked request on a warm connection; not a first one, not an untracked one', async (t) => {
  const arrivals: number[] = []
  const server = createServer((_req, res) => {
    arrivals.push(Date.now())
    res.end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  const tap = createSendTap()
  t.teardown(async () => {
    tap.close()
    await pool.close()
    await new Promise((resolve) => server.close(resolve))
  })
  const writes: Array<{ call: number; at: number | null }> = []
  const call = async (n: number, tracked: boolean) => {
    const start = () => pool.request({ method: 'GET', path: `/${n}` })
    const res = await (tracked ? tap.track((at) => writes.push({ call: n, at }), start) : start())
    await res.body.text()
    // Let the pool see its connection free again, so that the next call reuses it.
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  let connections = 0
  server.on('connection', () => connections++)
  await call(1, true) // the connection's first request
  await call(2, true)
  await call(3, false)
  await call(4, true)
  t.equal(connections, 1, 'one connection carried all four')
  t.same(
    writes.map((w) => [w.call, w.at === null ? 'new connection' : 'time']),
    [
      [1, 'new connection'],
      [2, 'time'],
      [4, 'time']
    ],
    'a time for tracked requests on the reused connection; the first one on a new connection has none'
  )
  t.ok((writes[1]?.at ?? Infinity) <= (arrivals[1] ?? 0), 'the write is reported no later than the server saw the request')
  tap.close()
  await call(5, true)
  t.equal(writes.length, 3, 'nothing after close()')
})

t.test('the client counts from the write: with Knack slower than a window, the third burst is granted before the second is answered', async (t) => {
  // 1,300 ms per answer, longer than a window + spread + margin. Counted from the answer, no
  // grant could come before an answer of the burst it follows; counted from the write it can.
  const sim = await startKnackSimulator({ rateLimit: 10, latencyMs: 1300 })
  const app = testApp()
  sim.addApp(appSpecFor(app))
  sim.seed(app.credentials.appId, app.obj, [activity(app, 1)])
  const events: string[] = []
  const client = createKnackClient({
    baseUrl: sim.url,
    rateLimit: 10,
    observe: { limiterWait: () => events.push('grant'), request: () => events.push('answer') }
  })
  t.teardown(async () => {
    await client.close()
    await sim.close()
  })
  // The first burst opens 10 connections (counted from its answers); the second reuses them.
  await Promise.all(Array.from({ length: 30 }, () => client.readRecord(app, 'rec-1')))
  const nth = (what: string, n: number) => events.findIndex((e, i) => e === what && events.slice(0, i + 1).filter((x) => x === what).length === n)
  t.ok(nth('grant', 21) < nth('answer', 11), `grant 21 (event ${nth('grant', 21)}) came before answer 11 (event ${nth('answer', 11)})`)
  t.ok(nth('grant', 11) > nth('answer', 1), 'the first burst, on new connections, was counted from its answers')
  t.equal(sim.stats().rateLimited, 0, 'no 429')
  t.ok(sim.stats().maxInAnyWindow <= 10)
})
