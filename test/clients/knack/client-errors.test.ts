// Retries, failures and secrecy of the Knack client, against the simulator over loopback.
import t from 'tap'
import type { Test } from 'tap'
import { Writable } from 'node:stream'
import { createServer } from 'node:net'
import { pino } from 'pino'
import { createKnackClient, type KnackClientOptions } from '../../../src/clients/knack/client.js'
import { createKnackTransport } from '../../../src/clients/knack/transport.js'
import { isKnackFailure } from '../../../src/errors.js'
import { startKnackSimulator, appSpecFor } from '../../../src/sandbox/knack-simulator.js'
import { testApp, activity, API_KEY } from './fixtures.js'

type Failure = Error & { status?: number; retryable?: boolean; messages?: string[] }

async function setup(t: Test, opts: Partial<KnackClientOptions> = {}) {
  const sim = await startKnackSimulator({ rateLimit: 100 })
  const app = testApp()
  sim.addApp(appSpecFor(app))
  sim.seed(app.credentials.appId, app.obj, [activity(app, 1), activity(app, 2)])
  const statuses: Array<number | 'error'> = []
  const client = createKnackClient({
    baseUrl: sim.url,
    rateLimit: 100,
    observe: { request: (_method, _route, status) => statuses.push(status) },
    ...opts
  })
  t.teardown(async () => {
    await client.close()
    await sim.close()
  })
  return { sim, app, client, statuses }
}

function failureOf(p: Promise<unknown>): Promise<Failure> {
  return p.then(
    () => {
      throw new Error('expected a failure')
    },
    (err: unknown) => err as Failure
  )
}

t.test('503 twice, then success: retried', async (t) => {
  const { sim, app, client, statuses } = await setup(t)
  sim.failNext(2, { status: 503 })
  const record = await client.readRecord(app, 'rec-1')
  t.equal(record.id, 'rec-1')
  t.same(statuses, [503, 503, 200])
  t.equal(sim.stats().requests, 3)
})

t.test('a PUT answered 503 and 408 is retried too, and lands once', async (t) => {
  const { sim, app, client } = await setup(t)
  sim.failNext(1, { method: 'PUT', status: 503 })
  sim.failNext(1, { method: 'PUT', status: 408 })
  await client.updateStatus(app, 'rec-2', 'SENT')
  t.equal(sim.getRecord(app.credentials.appId, app.obj, 'rec-2')?.[app.fields.esb_status], 'SENT')
  t.equal(sim.stats().puts.length, 1)
  t.equal(sim.stats().requests, 3)
})

t.test('5xx beyond maxRetries throws a retryable failure naming method and path', async (t) => {
  const { sim, app, client, statuses } = await setup(t, { maxRetries: 1 })
  sim.failNext(5, { status: 500 })
  const err = await failureOf(client.updateStatus(app, 'rec-1', 'SENT'))
  t.ok(isKnackFailure(err))
  t.equal(err.status, 500)
  t.equal(err.retryable, true)
  t.match(err.message, 'Knack PUT /objects/object_75/records/rec-1 answered 500 after 2 attempts')
  t.same(statuses, [500, 500])
})

t.test('400 with Knack errors throws at once, not retryable, with the messages', async (t) => {
  const { sim, app, client, statuses } = await setup(t)
  sim.failNext(1, {
    status: 400,
    body: { errors: [{ field: 'field_1860', type: 'required', message: 'ESB Status is required' }, { field: 'field_57', type: 'invalid', message: 'Bad value' }] }
  })
  const err = await failureOf(client.updateStatus(app, 'rec-1', 'SENT'))
  t.ok(isKnackFailure(err))
  t.equal(err.status, 400)
  t.equal(err.retryable, false)
  t.same(err.messages, ['ESB Status is required', 'Bad value'])
  t.match(err.message, /PUT \/objects\/object_75\/records\/rec-1 answered 400: ESB Status is required; Bad value/)
  t.same(statuses, [400], 'no retry')
})

t.test('errors given as an array of strings are read too', async (t) => {
  const { sim, app, client } = await setup(t)
  sim.failNext(1, { status: 403, body: { errors: ['Not allowed', 'Really not'] } })
  const err = await failureOf(client.readRecord(app, 'rec-1'))
  t.equal(err.status, 403)
  t.same(err.messages, ['Not allowed', 'Really not'])
})

t.test('network errors are retried, then thrown retryable without a status', async (t) => {
  // A port that was free a moment ago: connections are refused.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })
  const statuses: Array<number | 'error'> = []
  const client = createKnackClient({ baseUrl: `http://127.0.0.1:${port}/v1`, rateLimit: 100, maxRetries: 2, observe: { request: (_m, _r, s) => statuses.push(s) } })
  t.teardown(() => client.close())
  const err = await failureOf(client.readRecord(testApp(), 'rec-1'))
  t.ok(isKnackFailure(err))
  t.equal(err.status, undefined)
  t.equal(err.retryable, true)
  t.match(err.message, /GET \/pages\/scene_514\/views\/view_1653\/records\/rec-1 failed after 3 attempts/)
  t.same(statuses, ['error', 'error', 'error'])
})

t.test('a slow answer times out and is retried', async (t) => {
  const { sim, app, client, statuses } = await setup(t, { timeoutMs: 150, maxRetries: 1 })
  sim.setLatency(400)
  const err = await failureOf(client.readRecord(app, 'rec-1'))
  t.equal(err.retryable, true)
  t.match(err.message, /timed out after 150 ms/)
  t.same(statuses, ['error', 'error'])
  sim.setLatency(0)
  t.equal((await client.readRecord(app, 'rec-1')).id, 'rec-1', 'the client still works afterwards')
})

t.test('429s without end give up after the configured number of waits, retryable', async (t) => {
  const sim = await startKnackSimulator({ rateLimit: 100 })
  const app = testApp()
  sim.addApp(appSpecFor(app))
  sim.seed(app.credentials.appId, app.obj, [activity(app, 1)])
  const transport = createKnackTransport({ baseUrl: sim.url, rateLimit: 100, timeoutMs: 5000, maxRetries: 3, maxRateLimitWaits: 1 })
  t.teardown(async () => {
    await transport.close()
    await sim.close()
  })
  // Reset in the past: the client falls back to waiting about a second.
  sim.failNext(10, { status: 429, headers: { 'X-RateLimit-Reset': '1' } })
  const err = await failureOf(transport.send({ credentials: app.credentials, method: 'GET', route: '/x', path: `/objects/${app.obj}/records/rec-1` }))
  t.equal(err.status, 429)
  t.equal(err.retryable, true)
  t.match(err.message, /answered 429 2 times in a row/)
  t.equal(sim.stats().rateLimited, 2)
})

t.test('close() ends a call that is waiting to retry, and later calls fail', async (t) => {
  const { sim, app, client } = await setup(t, { maxRetries: 3 })
  sim.failNext(10, { status: 503 })
  const pending = failureOf(client.readRecord(app, 'rec-1'))
  await new Promise((r) => setTimeout(r, 50))
  await client.close()
  const err = await pending
  t.equal(err.retryable, true)
  t.match(err.message, /closed/)
  const after = await failureOf(client.readRecord(app, 'rec-1'))
  t.match(after.message, /closed/)
})

t.test('the API key appears in no error message and no log line', async (t) => {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString())
      done()
    }
  })
  const logger = pino({ level: 'trace' }, sink)
  const { sim, app, client } = await setup(t, { logger, maxRetries: 1 })
  const messages: string[] = []
  const collect = (p: Promise<unknown>) => failureOf(p).then((e) => messages.push(e.message, ...(e.messages ?? [])))

  sim.failNext(2, { status: 503 }) // retried, then fails: warn lines
  await collect(client.readRecord(app, 'rec-1'))
  sim.failNext(1, { status: 400, body: { errors: [{ message: `key ${API_KEY} echoed` }] } }) // Knack quoting the key
  await collect(client.updateStatus(app, 'rec-1', 'SENT'))
  await collect(client.readRecord({ ...app, credentials: { appId: app.credentials.appId, apiKey: `${API_KEY}-wrong` } }, 'rec-1')) // 401
  sim.failNext(1, { status: 429, headers: { 'X-RateLimit-Reset': '1' } })
  await client.listFields(app) // a 429 waited out: a warn line
  await collect(client.readRecord(app, 'missing'))

  t.equal(messages.length, 8, 'four failures, each with its message and Knack\'s')
  t.ok(lines.length >= 5, `log lines were written (${lines.length})`)
  t.ok(lines.some((l) => l.includes('"level":40')), 'warnings among them')
  for (const text of [...messages, ...lines]) t.notOk(text.includes(API_KEY), `no key in: ${text.slice(0, 120)}`)
  t.ok(messages.some((m) => m.includes('[redacted]')), 'a key echoed by Knack is redacted')
})
