import { X509Certificate, createPrivateKey } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { clientValidity, generateTestPki, writeTestPki } from '../../src/sandbox/certs.js'

const pki = generateTestPki()
const x509 = (pem: string): X509Certificate => new X509Certificate(pem)

t.test('server and client chain to the CA and match their keys', async (t) => {
  const ca = x509(pki.ca.cert)
  t.ok(ca.ca, 'CA is a CA')
  t.ok(ca.verify(ca.publicKey), 'CA is self-signed')
  for (const name of ['server', 'client'] as const) {
    const cert = x509(pki[name].cert)
    t.ok(cert.checkIssued(ca), `${name} issued by CA`)
    t.ok(cert.verify(ca.publicKey), `${name} signature verifies`)
    t.ok(cert.checkPrivateKey(createPrivateKey(pki[name].key)), `${name} key matches`)
    t.notOk(cert.ca, `${name} is not a CA`)
    t.ok(new Date(cert.validTo).getTime() > Date.now(), `${name} is valid now`)
  }
})

t.test('server names localhost and 127.0.0.1; client is knack311-client for clientAuth', async (t) => {
  const server = x509(pki.server.cert)
  t.equal(server.checkHost('localhost'), 'localhost')
  t.equal(server.checkIP('127.0.0.1'), '127.0.0.1')
  t.same(server.keyUsage, ['1.3.6.1.5.5.7.3.1'])
  const client = x509(pki.client.cert)
  t.match(client.subject, /CN=knack311-client/)
  t.same(client.keyUsage, ['1.3.6.1.5.5.7.3.2'])
})

t.test('the other CA signs the other client, and nothing of ours', async (t) => {
  const ca = x509(pki.ca.cert)
  const other = x509(pki.otherCa.cert)
  const otherClient = x509(pki.otherClient.cert)
  t.ok(otherClient.verify(other.publicKey))
  t.notOk(otherClient.verify(ca.publicKey))
  t.notOk(x509(pki.client.cert).verify(other.publicKey))
  t.ok(otherClient.checkPrivateKey(createPrivateKey(pki.otherClient.key)))
  t.not(x509(pki.client.cert).serialNumber, otherClient.serialNumber)
})

t.test('notBefore + days in the past gives an expired client certificate under a valid CA', async (t) => {
  const notBefore = new Date(Date.now() - 10 * 86_400_000)
  const expired = generateTestPki({ notBefore, days: 5 })
  const client = x509(expired.client.cert)
  const start = Math.floor(notBefore.getTime() / 1000) * 1000
  t.equal(new Date(client.validFrom).getTime(), start)
  t.equal(new Date(client.validTo).getTime(), start + 5 * 86_400_000)
  t.ok(new Date(client.validTo).getTime() < Date.now(), 'validTo is in the past')
  t.ok(new Date(x509(expired.server.cert).validTo).getTime() > Date.now(), 'the server cert is still valid')
  t.ok(client.verify(x509(expired.ca.cert).publicKey))
})

t.test('days <= 0 alone means already expired', async (t) => {
  const now = Date.now()
  const threeDaysAgo = clientValidity({ days: -3 })
  t.ok(threeDaysAgo.notAfter.getTime() <= now - 3 * 86_400_000)
  t.ok(threeDaysAgo.notAfter.getTime() > now - 4 * 86_400_000)
  t.ok(threeDaysAgo.notBefore < threeDaysAgo.notAfter)
  const zero = clientValidity({ days: 0 })
  t.ok(zero.notAfter.getTime() < now && zero.notBefore < zero.notAfter)
  const normal = clientValidity({})
  t.ok(normal.notAfter.getTime() - normal.notBefore.getTime() === 365 * 86_400_000)
})

t.test('writeTestPki writes the files the service expects, keys private', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'knack311-pki-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const paths = writeTestPki(join(dir, 'certs'), pki)
  t.equal(paths.clientCert, join(dir, 'certs', 'esb.cert'))
  t.equal(paths.clientKey, join(dir, 'certs', 'esb.pem'))
  t.equal(paths.caCert, join(dir, 'certs', 'ca.pem'))
  t.equal(readFileSync(paths.clientCert, 'utf8'), pki.client.cert)
  t.equal(readFileSync(paths.clientKey, 'utf8'), pki.client.key)
  t.equal(readFileSync(paths.serverKey, 'utf8'), pki.server.key)
  t.equal(readFileSync(paths.otherClientCert, 'utf8'), pki.otherClient.cert)
  t.equal(statSync(paths.clientKey).mode & 0o077, 0, 'key not readable by others')
})
