import t from 'tap'
import type { Test } from 'tap'
import { createEsbClient, type EsbObserver } from '../../../src/clients/esb/esb-client.js'
import type { EsbClient } from '../../../src/clients/esb/types.js'
import { generateTestPki } from '../../../src/sandbox/certs.js'
import { startEsbSimulator } from '../../../src/sandbox/esb-simulator.js'

const pki = generateTestPki()

function message(srNumber = 'SR-1001', details = 'Replaced sign a<b & c'): string {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:acc="http://www.austintexas.gov/AcceptKnack/">' +
    '<soapenv:Header/><soapenv:Body><acc:submitKnack>' +
    '<header><emi>EMI-9</emi><timestamp>2024-05-01T10:00:00-05:00</timestamp><source>KNACK</source>' +
    '<target>CSR</target><data_type>CSR</data_type><event>UPDATE</event></header>' +
    '<data><csr><id>rec1</id><csr_activity_id/><sr_number>' +
    srNumber +
    '</sr_number><issue_status_code>closed_resolved</issue_status_code><activity_type_code>SIGNREPL</activity_type_code>' +
    `<activity_details>${esc(details)}</activity_details><outcome_code>COMPLET1</outcome_code>` +
    '<activity_date>2024-05-01T09:30:00-05:00</activity_date></csr></data>' +
    '</acc:submitKnack></soapenv:Body></soapenv:Envelope>'
  )
}

interface Observed {
  label: number | string
  seconds: number
}

async function setup(t: Test, clientOpts: { timeoutMs?: number; ca?: string; cert?: string; key?: string } = {}) {
  const sim = await startEsbSimulator({ pki })
  const observed: Observed[] = []
  const observe: EsbObserver = { request: (label, seconds) => observed.push({ label, seconds }) }
  const client: EsbClient = createEsbClient({
    endpoint: sim.url,
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

t.test('a well-formed message is accepted over mutual TLS', async (t) => {
  const { sim, client, observed } = await setup(t)
  const outcome = await client.send(message())
  t.equal(outcome.kind, 'accepted')
  if (outcome.kind !== 'accepted') return
  t.equal(outcome.status, 200)
  t.match(outcome.body, /submitKnackResponse/)
  t.equal(sim.received.length, 1)
  t.equal(sim.received[0]?.clientCN, 'knack311-client')
  t.equal(sim.received[0]?.values.sr_number, 'SR-1001')
  t.equal(sim.received[0]?.values.activity_details, 'Replaced sign a<b & c')
  t.equal(observed[0]?.label, 200)
  t.ok((observed[0]?.seconds ?? -1) >= 0)
})

t.test('a 500 SOAP fault is a retryable rejection carrying the fault', async (t) => {
  const { sim, client } = await setup(t)
  sim.mode({ fault: { code: 'env:Client', string: 'Internal Error' } })
  const outcome = await client.send(message())
  t.same(outcome, {
    kind: 'rejected',
    retryable: true,
    status: 500,
    faultCode: 'env:Client',
    faultString: 'Internal Error',
    reason: 'HTTP 500 env:Client: Internal Error'
  })
  t.equal(sim.received.length, 0)
})

t.test('a 2xx whose body is a SOAP fault is a rejection', async (t) => {
  const { sim, client } = await setup(t)
  sim.mode({ fault: { code: 'soap:Server', string: 'CSR unavailable', status: 200 } })
  const outcome = await client.send(message())
  t.equal(outcome.kind, 'rejected')
  if (outcome.kind !== 'rejected') return
  t.equal(outcome.retryable, true)
  t.equal(outcome.status, 200)
  t.equal(outcome.faultCode, 'soap:Server')
  t.equal(outcome.reason, 'HTTP 200 with SOAP fault soap:Server: CSR unavailable')
})

t.test('a 400 is not retryable; a 503 without a fault is', async (t) => {
  const { sim, client } = await setup(t)
  sim.mode({ status: 400 })
  const bad = await client.send(message())
  t.match(bad, { kind: 'rejected', retryable: false, status: 400 })
  sim.mode({ status: 503 })
  const busy = await client.send(message())
  t.match(busy, { kind: 'rejected', retryable: true, status: 503, reason: /^HTTP 503/ })
  t.equal(sim.received.length, 0)
})

t.test('failNext faults the next messages, then the ESB accepts again', async (t) => {
  const { sim, client } = await setup(t)
  sim.failNext(2, { code: 'env:Server', string: 'Busy' })
  const kinds: string[] = []
  for (let i = 0; i < 3; i++) kinds.push((await client.send(message(`SR-${i}`))).kind)
  t.same(kinds, ['rejected', 'rejected', 'accepted'])
  t.same(
    sim.received.map((r) => r.values.sr_number),
    ['SR-2']
  )
})

t.test('an ESB that never answers times out, retryable', async (t) => {
  const { sim, client, observed } = await setup(t, { timeoutMs: 300 })
  sim.mode('hang')
  const outcome = await client.send(message())
  t.same(outcome, { kind: 'rejected', retryable: true, reason: 'timeout after 300 ms' })
  t.equal(observed[0]?.label, 'timeout')
})

t.test('an ESB that is down is a retryable connection refused; up again it accepts', async (t) => {
  const { sim, client } = await setup(t)
  t.equal((await client.send(message())).kind, 'accepted')
  await sim.down()
  const outcome = await client.send(message())
  t.same(outcome, { kind: 'rejected', retryable: true, reason: 'connection refused' })
  await sim.up()
  t.equal((await client.send(message())).kind, 'accepted')
  t.equal(sim.received.length, 2)
})

t.test('the client refuses an ESB whose certificate is not signed by the given CA', async (t) => {
  const { sim, client, observed } = await setup(t, { ca: pki.otherCa.cert })
  const outcome = await client.send(message())
  t.equal(outcome.kind, 'rejected')
  if (outcome.kind !== 'rejected') return
  t.equal(outcome.retryable, false)
  t.match(outcome.reason, /^ESB certificate not trusted: [A-Z_]+$/)
  t.equal(sim.attempts, 0, 'no HTTP request reached the ESB')
  t.equal(sim.received.length, 0)
  t.equal(observed[0]?.label, 'tls_untrusted')
})

t.test('a client certificate from another CA is refused by the ESB', async (t) => {
  const { sim, client } = await setup(t, { cert: pki.otherClient.cert, key: pki.otherClient.key })
  const outcome = await client.send(message())
  t.equal(outcome.kind, 'rejected')
  if (outcome.kind !== 'rejected') return
  // Node's TLS server drops the socket without an alert after a TLS 1.3 handshake, so the client
  // sees a close before any answer; a server that sends an alert gets the certificate reason.
  t.match(outcome.reason, /^(connection closed by the ESB before it answered .*client certificate\)|ESB refused the client certificate: ERR_SSL_\w+)$/)
  t.equal(outcome.status, undefined)
  t.equal(sim.received.length, 0)
  t.equal(sim.attempts, 0, 'no HTTP request got through')
  t.ok(sim.tlsRejections >= 1, 'the simulator refused the handshake')
})

t.test('a message the ESB cannot read comes back as its env:Client fault', async (t) => {
  const { sim, client } = await setup(t)
  const outcome = await client.send(message('SR-1', 'café'))
  t.match(outcome, { kind: 'rejected', retryable: true, status: 500, faultCode: 'env:Client', faultString: /not ASCII/ })
  t.equal(sim.received.length, 0)
})
