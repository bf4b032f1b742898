// The ESB client against the real ESB simulator over loopback: every kind of answer classed by
// who is at fault, quick retries for the endpoint's trouble, and time-outs before and after the
// message went out.
import { createServer, type Server, type Socket } from 'node:net'
import t from 'tap'
import type { Test } from 'tap'
import { createEsbClient, type EsbObserver } from '../../../src/clients/esb/esb-client.js'
import type { EsbClient, EsbOutcome } from '../../../src/clients/esb/types.js'
import { generateTestPki } from '../../../src/sandbox/certs.js'
import { startEsbSimulator, type EsbSimulatorOptions } from '../../../src/sandbox/esb-simulator.js'
import { esbMessage as message } from './message.js'

const pki = generateTestPki()

interface Observed {
  label: number | string
  seconds: number
}

async function setup(
  t: Test,
  clientOpts: { timeoutMs?: number; ca?: string; cert?: string; key?: string; endpoint?: string } = {},
  simOpts: Partial<EsbSimulatorOptions> = {}
) {
  const sim = await startEsbSimulator({ pki, ...simOpts })
  const observed: Observed[] = []
  const observe: EsbObserver = { request: (label, seconds) => observed.push({ label, seconds }) }
  const client: EsbClient = createEsbClient({
    endpoint: clientOpts.endpoint ?? sim.url,
    cert: clientOpts.cert ?? pki.client.cert,
    key: clientOpts.key ?? pki.client.key,
    ca: clientOpts.ca ?? pki.ca.cert,
    timeoutMs: clientOpts.timeoutMs ?? 5000,
    observe
  })
  t.teardown(async () => {
    await client.close()
    await sim.close()
  })
  return { sim, client, observed }
}

function endpointOf(t: Test, outcome: EsbOutcome): Extract<EsbOutcome, { kind: 'endpoint' }> {
  if (outcome.kind !== 'endpoint') throw new Error(`expected an endpoint failure, got ${JSON.stringify(outcome)}`)
  t.pass(`endpoint failure: ${outcome.reason}`)
  return outcome
}

t.test('a well-formed message is accepted over mutual TLS, in one try', async (t) => {
  const { sim, client, observed } = await setup(t)
  const outcome = await client.send(message())
  t.equal(outcome.kind, 'accepted')
  if (outcome.kind !== 'accepted') return
  t.equal(outcome.status, 200)
  t.equal(outcome.tries, 1)
  t.match(outcome.body, /submitKnackResponse/)
  t.equal(sim.received.length, 1)
  t.equal(sim.received[0]?.clientCN, 'knack311-client')
  t.equal(sim.received[0]?.basicUser, null, 'no Basic credentials with ESB_AUTH=mtls')
  t.equal(sim.received[0]?.values.sr_number, 'SR-1001')
  t.equal(sim.received[0]?.values.activity_details, 'Replaced sign a<b & c')
  t.equal(observed[0]?.label, 200)
  t.ok((observed[0]?.seconds ?? -1) >= 0)
})

t.test('the gateway path serves the same service', async (t) => {
  const sim = await startEsbSimulator({ pki })
  t.teardown(() => sim.close())
  const { client } = await setup(t, { endpoint: sim.gatewayUrl })
  t.match(sim.gatewayUrl, /\/ws\/rest\/v1\/knack\/submitKnack\/$/)
  t.equal((await client.send(message())).kind, 'accepted')
  t.equal(sim.received[0]?.path, '/ws/rest/v1/knack/submitKnack/')
})

t.test('a 500 SOAP fault is about the record, carrying the fault; no quick retry', async (t) => {
  const { sim, client } = await setup(t)
  sim.mode({ fault: { code: 'env:Client', string: 'Internal Error' } })
  const outcome = await client.send(message())
  t.same(outcome, {
    kind: 'record',
    status: 500,
    faultCode: 'env:Client',
    faultString: 'Internal Error',
    reason: 'HTTP 500 env:Client: Internal Error',
    tries: 1
  })
  t.equal(sim.attempts, 1, 'asked once')
  t.equal(sim.received.length, 0)
})

t.test('a 2xx whose body is a SOAP fault is about the record', async (t) => {
  const { sim, client } = await setup(t)
  sim.mode({ fault: { code: 'soap:Server', string: 'CSR unavailable', status: 200 } })
  const outcome = await client.send(message())
  t.match(outcome, { kind: 'record', status: 200, faultCode: 'soap:Server', reason: 'HTTP 200 with SOAP fault soap:Server: CSR unavailable' })
})

t.test('400 and 422 are about the record; a 503 without a fault is the endpoint, retried quickly', async (t) => {
  const { sim, client, observed } = await setup(t)
  for (const status of [400, 422]) {
    sim.mode({ status })
    t.match(await client.send(message()), { kind: 'record', status, tries: 1 }, `HTTP ${status}`)
  }
  sim.clear()
  sim.mode({ status: 503 })
  const busy = endpointOf(t, await client.send(message()))
  t.match(busy, { status: 503, label: 'http_503', credentials: false, unknownOutcome: false, tries: 5 })
  t.match(busy.reason, /^HTTP 503 \(Simulated HTTP 503\) \(5 tries\)$/)
  t.equal(sim.attempts, 5, 'five tries reached the ESB')
  t.equal(observed.filter((o) => o.label === 503).length, 5, 'each try observed')
  t.equal(sim.received.length, 0)
})

t.test('404, 408, 425 and 429 are the endpoint whatever the body; 401/403 too, with no quick retry', async (t) => {
  const { sim, client } = await setup(t)
  for (const status of [404, 408, 425, 429]) {
    sim.clear()
    sim.mode({ status })
    t.match(endpointOf(t, await client.send(message())), { status, credentials: false, tries: 5 }, `HTTP ${status}`)
  }
  for (const status of [401, 403]) {
    sim.clear()
    sim.mode({ status })
    const refused = endpointOf(t, await client.send(message()))
    t.match(refused, { status, credentials: true, tries: 1 }, `HTTP ${status}`)
    t.match(refused.reason, /refused the credentials/)
    t.equal(sim.attempts, 1, 'credentials do not get better in a few milliseconds')
  }
})

t.test('half of all requests answered 404 No such path: the quick retries get nearly every message through', async (t) => {
  // Seeded and sequential, so the simulator's decisions replay exactly.
  const { sim, client } = await setup(t, {}, { flaky: { notFound: 0.5, seed: 29228 } })
  const outcomes: EsbOutcome[] = []
  for (let i = 0; i < 40; i++) outcomes.push(await client.send(message(`SR-${i}`)))
  const accepted = outcomes.filter((o) => o.kind === 'accepted')
  const failed = outcomes.filter((o) => o.kind !== 'accepted')
  t.ok(sim.stats.notFound >= 10, `the gateway answered 404 ${sim.stats.notFound} times`)
  t.equal(sim.attempts, sim.stats.notFound + sim.received.length, 'every request was a 404 or an acceptance')
  t.equal(accepted.length, sim.received.length, 'one ESB message per accepted send')
  t.ok(accepted.some((o) => o.tries > 1), 'some got through on a quick retry')
  t.ok(accepted.length >= 36, `${accepted.length} of 40 accepted within one attempt each`)
  for (const f of failed) t.match(f, { kind: 'endpoint', status: 404, tries: 5, reason: /^HTTP 404 \(No such path for url https:\/\/127\.0\.0\.1:\d+\/AcceptKnack\) \(5 tries\)$/ })
})

t.test('failNext faults the next messages, then the ESB accepts again', async (t) => {
  const { sim, client } = await setup(t)
  sim.failNext(2, { code: 'env:Server', string: 'Busy' })
  const kinds: string[] = []
  for (let i = 0; i < 3; i++) kinds.push((await client.send(message(`SR-${i}`))).kind)
  t.same(kinds, ['record', 'record', 'accepted'])
  t.same(sim.received.map((r) => r.values.sr_number), ['SR-2'])
})

t.test('a time-out after the ESB read the message is an unknown outcome, not retried', async (t) => {
  const { sim, client, observed } = await setup(t, { timeoutMs: 300 })
  sim.timeoutNext(1)
  const outcome = endpointOf(t, await client.send(message('SR-late')))
  t.match(outcome, { label: 'timeout', unknownOutcome: true, credentials: false, tries: 1 })
  t.equal(outcome.reason, 'timeout after 300 ms after the message was sent (the ESB may have processed it)')
  t.same(sim.unanswered.map((m) => m.values.sr_number), ['SR-late'], 'the simulator recorded it as received but unanswered')
  t.equal(sim.received.length, 0)
  t.equal(observed[0]?.label, 'timeout')
  t.equal((await client.send(message('SR-next'))).kind, 'accepted', 'the next one is answered')
})

t.test('an ESB that reads and never answers (hang) times out the same way', async (t) => {
  const { sim, client } = await setup(t, { timeoutMs: 300 })
  sim.mode('hang')
  t.match(await client.send(message()), { kind: 'endpoint', label: 'timeout', unknownOutcome: true, tries: 1 })
})

t.test('a time-out before the message went out (TLS never completes) is not an unknown outcome', async (t) => {
  // A TCP listener that accepts and never speaks TLS: the handshake hangs until the time-out.
  const sockets = new Set<Socket>()
  const server: Server = createServer((s) => void sockets.add(s))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const port = (server.address() as { port: number }).port
  const client = createEsbClient({ endpoint: `https://127.0.0.1:${port}/AcceptKnack`, cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert, timeoutMs: 300 })
  t.teardown(() => client.close())
  const outcome = endpointOf(t, await client.send(message()))
  t.equal(outcome.unknownOutcome, false)
  t.match(outcome.label, /^(timeout|connect_timeout)$/)
  t.match(outcome.reason, /^timeout (after 300 ms before the message was sent|connecting to the ESB after 300 ms)$/)
})

t.test('an ESB that is down: connection refused, retried quickly; up again it accepts', async (t) => {
  const { sim, client, observed } = await setup(t)
  t.equal((await client.send(message())).kind, 'accepted')
  await sim.down()
  const outcome = endpointOf(t, await client.send(message()))
  t.match(outcome, { label: 'connection_refused', unknownOutcome: false, tries: 5, reason: 'connection refused (5 tries)' })
  t.equal(observed.filter((o) => o.label === 'connection_refused').length, 5)
  await sim.up()
  t.equal((await client.send(message())).kind, 'accepted')
  t.equal(sim.received.length, 2)
})

t.test('an ESB whose certificate our CA did not sign: the endpoint (TLS), no quick retry, nothing sent', async (t) => {
  const { sim, client, observed } = await setup(t, { ca: pki.otherCa.cert })
  const outcome = endpointOf(t, await client.send(message()))
  t.match(outcome, { label: 'tls_untrusted', tries: 1, unknownOutcome: false })
  t.match(outcome.reason, /^ESB certificate not trusted: [A-Z_]+$/)
  t.equal(sim.attempts, 0, 'no HTTP request reached the ESB')
  t.equal(observed[0]?.label, 'tls_untrusted')
})

t.test('a client certificate from another CA is refused by the ESB: the endpoint, never the record', async (t) => {
  const { sim, client } = await setup(t, { cert: pki.otherClient.cert, key: pki.otherClient.key })
  const outcome = endpointOf(t, await client.send(message()))
  // Node's TLS server drops the socket without an alert after a TLS 1.3 handshake, so the client
  // sees a close before any answer; a server that sends an alert gets the certificate reason.
  t.match(outcome.reason, /^(connection closed by the ESB before it answered .*client certificate\)( \(\d tries\))?|ESB refused the client certificate: ERR_SSL_\w+)$/)
  t.equal(outcome.status, undefined)
  t.equal(sim.received.length, 0)
  t.equal(sim.attempts, 0, 'no HTTP request got through')
  t.ok(sim.tlsRejections >= 1, 'the simulator refused the handshake')
})

t.test('a message the ESB cannot read comes back as its env:Client fault: about the record', async (t) => {
  const { sim, client } = await setup(t)
  const outcome = await client.send(message('SR-1', 'café'))
  t.match(outcome, { kind: 'record', status: 500, faultCode: 'env:Client', faultString: /not ASCII/ })
  t.equal(sim.received.length, 0)
})
