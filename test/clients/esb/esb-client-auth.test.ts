// ESB_AUTH: a client certificate, HTTP Basic, or both — as the simulator sees each message.
import t from 'tap'
import type { Test } from 'tap'
import { createEsbClient, type EsbClientOptions } from '../../../src/clients/esb/esb-client.js'
import { generateTestPki } from '../../../src/sandbox/certs.js'
import { startEsbSimulator, type EsbSimulatorOptions } from '../../../src/sandbox/esb-simulator.js'
import { esbMessage } from './message.js'

const pki = generateTestPki()
const USER = 'knack311-svc'
const PASSWORD = 'correct horse battery staple'

async function setup(t: Test, sim: Partial<EsbSimulatorOptions>, client: Partial<EsbClientOptions>) {
  const server = await startEsbSimulator({ pki, ...sim })
  const esb = createEsbClient({ endpoint: server.gatewayUrl, ca: pki.ca.cert, timeoutMs: 5000, ...client })
  t.teardown(async () => {
    await esb.close()
    await server.close()
  })
  return { sim: server, esb }
}

t.test('basic: the Basic header and no client certificate', async (t) => {
  const { sim, esb } = await setup(t, { clientCertificate: 'optional', basic: { username: USER, password: PASSWORD } }, { auth: 'basic', username: USER, password: PASSWORD })
  const outcome = await esb.send(esbMessage())
  t.equal(outcome.kind, 'accepted')
  t.equal(sim.received[0]?.basicUser, USER, 'the simulator saw our user')
  t.equal(sim.received[0]?.clientCN, '', 'and no client certificate')
  t.same(esb.certificate(), { used: false }, 'no certificate to report')
})

t.test('mtls+basic: both, on the same request', async (t) => {
  const { sim, esb } = await setup(
    t,
    { basic: { username: USER, password: PASSWORD } },
    { auth: 'mtls+basic', cert: pki.client.cert, key: pki.client.key, username: USER, password: PASSWORD }
  )
  t.equal((await esb.send(esbMessage())).kind, 'accepted')
  t.equal(sim.received[0]?.basicUser, USER)
  t.equal(sim.received[0]?.clientCN, 'knack311-client')
  t.equal(esb.certificate().used, true)
})

t.test('a wrong password: the endpoint refusing our credentials, once, the password nowhere in the outcome', async (t) => {
  const { sim, esb } = await setup(t, { clientCertificate: 'optional', basic: { username: USER, password: PASSWORD } }, { auth: 'basic', username: USER, password: 'wrong one' })
  const outcome = await esb.send(esbMessage())
  t.match(outcome, { kind: 'endpoint', status: 401, credentials: true, tries: 1 })
  t.notMatch(JSON.stringify(outcome), /wrong one|correct horse/, 'no password in the outcome')
  t.equal(sim.stats.unauthorized, 1)
  t.equal(sim.received.length, 0)
})

t.test('basic alone against an ESB that demands a client certificate: refused at the TLS layer, never the record', async (t) => {
  const { sim, esb } = await setup(t, { basic: { username: USER, password: PASSWORD } }, { auth: 'basic', username: USER, password: PASSWORD })
  const outcome = await esb.send(esbMessage())
  t.equal(outcome.kind, 'endpoint')
  t.equal(sim.attempts, 0, 'no HTTP request got through')
  t.ok(sim.tlsRejections >= 1)
})

t.test('mtls alone against an ESB that demands Basic: 401', async (t) => {
  const { esb } = await setup(t, { basic: { username: USER, password: PASSWORD } }, { auth: 'mtls', cert: pki.client.cert, key: pki.client.key })
  t.match(await esb.send(esbMessage()), { kind: 'endpoint', status: 401, credentials: true })
})
