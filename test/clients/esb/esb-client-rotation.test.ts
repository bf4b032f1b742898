// Certificate files replaced under a running client: a good pair is used for new connections
// (the simulator sees its CN) while a request in flight finishes on the old one; a broken pair is
// refused and the old one kept. Each case announces itself on the events bus.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { createEsbClient } from '../../../src/clients/esb/esb-client.js'
import type { EsbClient } from '../../../src/clients/esb/types.js'
import { createEvents } from '../../../src/events/bus.js'
import type { EventOf, ServiceEvent } from '../../../src/events/types.js'
import { generateTestPki, issueCa, issueClientCertificate, type PemPair } from '../../../src/sandbox/certs.js'
import { startEsbSimulator, type EsbSimulator } from '../../../src/sandbox/esb-simulator.js'
import { waitFor } from '../../helpers/stack.js'
import { esbMessage } from './message.js'

const pki = generateTestPki()

interface Rig {
  sim: EsbSimulator
  esb: EsbClient
  events: ServiceEvent[]
  write(pair: PemPair): void
  paths: { cert: string; key: string; ca: string }
  next<T extends 'certificate.replaced' | 'certificate.refused'>(type: T): Promise<EventOf<T>>
}

async function rig(t: Test): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'knack311-rotation-'))
  const paths = { cert: join(dir, 'esb.cert'), key: join(dir, 'esb.pem'), ca: join(dir, 'ca.pem') }
  const write = (pair: PemPair) => {
    writeFileSync(paths.cert, pair.cert)
    writeFileSync(paths.key, pair.key)
  }
  write(pki.client)
  writeFileSync(paths.ca, pki.ca.cert)
  const sim = await startEsbSimulator({ pki })
  const bus = createEvents()
  const events: ServiceEvent[] = []
  bus.on((e) => void events.push(e))
  const esb = createEsbClient({
    endpoint: sim.url,
    cert: pki.client.cert,
    key: pki.client.key,
    ca: pki.ca.cert,
    certPath: paths.cert,
    keyPath: paths.key,
    caPath: paths.ca,
    certPollMs: 20,
    timeoutMs: 5000,
    events: bus
  })
  t.teardown(async () => {
    await esb.close()
    await sim.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const next = <T extends 'certificate.replaced' | 'certificate.refused'>(type: T) => {
    const seen = events.filter((e) => e.type === type).length
    return waitFor(() => events.filter((e) => e.type === type)[seen] as EventOf<T> | undefined, 10_000, type)
  }
  return { sim, esb, events, write, paths, next }
}

t.test('a re-issued certificate from the same CA: the next message goes with it, no restart', async (t) => {
  const { sim, esb, write, next } = await rig(t)
  t.equal((await esb.send(esbMessage('SR-before'))).kind, 'accepted')
  t.equal(sim.received[0]?.clientCN, 'knack311-client')
  const before = esb.certificate().inUse

  const renewed = issueClientCertificate(pki.ca, 'knack311-client-2026')
  const replaced = next('certificate.replaced')
  write(renewed)
  const event = await replaced
  t.match(event.subject, /CN=knack311-client-2026/)
  t.ok(event.expiresAt > new Date(), 'with its expiry')

  const status = esb.certificate()
  t.match(status.inUse?.subject, /CN=knack311-client-2026/, 'the status shows the certificate in use')
  t.not(status.inUse?.fingerprint, before?.fingerprint)
  t.equal(status.refused, undefined)
  t.equal((await esb.send(esbMessage('SR-after'))).kind, 'accepted')
  t.equal(sim.received[1]?.clientCN, 'knack311-client-2026', 'the ESB saw the new certificate')
})

t.test('a request in flight when the files change finishes on the old certificate', async (t) => {
  const { sim, esb, write, next } = await rig(t)
  sim.setLatency(800)
  const inFlight = esb.send(esbMessage('SR-slow'))
  await waitFor(() => sim.attempts >= 1 || undefined, 5000, 'the slow request to reach the ESB')
  const replaced = next('certificate.replaced')
  write(issueClientCertificate(pki.ca, 'knack311-client-next'))
  await replaced
  sim.setLatency(0)
  t.equal((await inFlight).kind, 'accepted', 'the old connection was not cut')
  t.equal((await esb.send(esbMessage('SR-new'))).kind, 'accepted')
  const bySr = Object.fromEntries(sim.received.map((m) => [m.values.sr_number, m.clientCN]))
  t.same(bySr, { 'SR-slow': 'knack311-client', 'SR-new': 'knack311-client-next' })
})

t.test('a mismatched pair is refused: the old one stays in use and says so', async (t) => {
  const { sim, esb, write, next, events } = await rig(t)
  const stranger = issueClientCertificate(pki.ca, 'knack311-stranger')
  const refused = next('certificate.refused')
  write({ cert: stranger.cert, key: pki.otherClient.key })
  const event = await refused
  t.match(event.reason, /does not match its key/)
  const status = esb.certificate()
  t.match(status.inUse?.subject, /CN=knack311-client(,|$)/, 'the old certificate is still in use')
  t.match(status.refused, { reason: /does not match its key/, subject: /CN=knack311-stranger/ })
  t.equal((await esb.send(esbMessage())).kind, 'accepted')
  t.equal(sim.received[0]?.clientCN, 'knack311-client', 'messages go with the old certificate')
  t.equal(events.filter((e) => e.type === 'certificate.refused').length, 1, 'refused once, not at every poll')

  // Fixed: the good pair is taken and the refusal cleared.
  const replaced = next('certificate.replaced')
  write(stranger)
  await replaced
  t.equal(esb.certificate().refused, undefined, 'the refusal is cleared')
  t.equal((await esb.send(esbMessage())).kind, 'accepted')
  t.equal(sim.received[1]?.clientCN, 'knack311-stranger')
})

t.test('an unreadable or expired replacement is refused', async (t) => {
  const { esb, write, next, paths } = await rig(t)
  let refused = next('certificate.refused')
  rmSync(paths.key)
  t.match((await refused).reason, /^ESB_KEY .* is not readable \(ENOENT\)$/)
  refused = next('certificate.refused')
  write(issueClientCertificate(pki.ca, 'knack311-expired', { days: -1 }))
  t.match((await refused).reason, /expired on/)
  t.match(esb.certificate().inUse?.subject, /CN=knack311-client(,|$)/)
  t.equal((await esb.send(esbMessage())).kind, 'accepted', 'still sending with the old pair')
})

t.test('a certificate from a new CA the ESB was told to trust', async (t) => {
  const { sim, esb, write, next } = await rig(t)
  const newCa = issueCa('City of Austin Issuing CA 2026')
  sim.trust(newCa.cert)
  const replaced = next('certificate.replaced')
  write(issueClientCertificate(newCa, 'knack311-client-newca'))
  await replaced
  t.equal((await esb.send(esbMessage())).kind, 'accepted')
  t.equal(sim.received[0]?.clientCN, 'knack311-client-newca')
})

t.test('ESB_CA replaced with something that is not a certificate: refused, the old CA kept', async (t) => {
  const { sim, esb, next, paths } = await rig(t)
  const refused = next('certificate.refused')
  writeFileSync(paths.ca, 'not a certificate\n')
  t.match((await refused).reason, /^ESB_CA .* is not a PEM certificate$/)
  t.equal((await esb.send(esbMessage())).kind, 'accepted', 'the ESB is still trusted')
  t.equal(sim.received.length, 1)
})
