// /readyz shows the client certificate the ESB client is USING: the one it started with, or a
// checked replacement it picked up while running. A replacement it refused is shown beside it
// (still 200: the old pair works); an expired or broken pair in use is 503. /healthz stays a
// cheap 200 whatever /readyz says. The expiry metric follows the same certificate.
import { rmSync, writeFileSync } from 'node:fs'
import t from 'tap'
import { certificateCheck } from '../../src/observability/readiness.js'
import { generateTestPki, issueClientCertificate } from '../../src/sandbox/certs.js'
import type { ServiceEvent } from '../../src/events/types.js'
import { startStack, waitFor } from '../helpers/stack.js'
import type { Stack } from '../../src/sandbox/stack.js'

interface CertCheck {
  ok: boolean
  used?: boolean
  message?: string
  warning?: string
  days_to_expiry?: number
  subject?: string
  refused?: { reason: string; subject?: string; days_to_expiry?: number }
}
interface ReadyBody {
  status: string
  checks: Record<string, { ok: boolean; message?: string; state?: string }> & { certificate: CertCheck }
}

async function probe(stack: Stack) {
  const app = stack.app
  if (!app) throw new Error('stack has no service')
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  const health = await app.inject({ method: 'GET', url: '/healthz' })
  // Whatever the state, the answer never carries PEM material.
  if (/BEGIN|PRIVATE KEY/.test(ready.body)) throw new Error(`PEM material in /readyz: ${ready.body}`)
  return { status: ready.statusCode, body: ready.json<ReadyBody>(), health: health.statusCode, healthBody: health.json<unknown>() }
}

async function expiryMetric(stack: Stack, cert: string): Promise<number | undefined> {
  const text = (await stack.app!.inject({ method: 'GET', url: '/metrics' })).body
  const m = new RegExp(`^knack311_certificate_days_to_expiry\\{cert="${cert}"\\} (-?\\d+)$`, 'm').exec(text)
  return m ? Number(m[1]) : undefined
}

t.test('the certificate in use, and replacements taken or refused while running', async (t) => {
  const stack = await startStack({ esbCertPollMs: 20 })
  t.teardown(() => stack.close())
  const events: ServiceEvent[] = []
  stack.app!.service.events.on((e) => void events.push(e))
  const next = (type: ServiceEvent['type']) => {
    const seen = events.filter((e) => e.type === type).length
    return waitFor(() => events.filter((e) => e.type === type)[seen], 10_000, type)
  }
  const write = (cert: string, key: string) => {
    writeFileSync(stack.paths.clientCert, cert)
    writeFileSync(stack.paths.clientKey, key)
  }

  await t.test('a normal stack is ready and says how long the certificate lasts; the ESB is ok', async (t) => {
    const r = await probe(stack)
    t.equal(r.status, 200)
    t.equal(r.body.status, 'ok')
    t.ok(r.body.checks.database?.ok, 'database')
    t.ok(r.body.checks.apps?.ok, 'apps')
    const cert = r.body.checks.certificate
    t.ok(cert.ok, 'certificate')
    t.equal(cert.used, true)
    t.ok(cert.days_to_expiry !== undefined && cert.days_to_expiry >= 363 && cert.days_to_expiry <= 365, `days_to_expiry ${cert.days_to_expiry}`)
    t.equal(cert.warning, undefined, 'no warning a year out')
    t.match(r.body.checks.esb, { ok: true, state: 'ok' })
    t.equal(await expiryMetric(stack, 'esb_client'), cert.days_to_expiry, 'the metric shows the same certificate')
    t.equal(r.health, 200)
    t.same(r.healthBody, { status: 'ok' })
  })

  await t.test('a replacement that does not match its key is refused: still ready, the refusal shown', async (t) => {
    const refused = next('certificate.refused')
    write(issueClientCertificate(stack.pki.ca, 'knack311-mismatch').cert, generateTestPki().client.key)
    await refused
    const r = await probe(stack)
    t.equal(r.status, 200, 'the old pair still works')
    const cert = r.body.checks.certificate
    t.ok(cert.ok)
    t.match(cert.subject, /CN=knack311-client(,|$)/, 'the certificate in use is the old one')
    t.match(cert.refused, { reason: /does not match its key/, subject: /CN=knack311-mismatch/ })
    t.match(cert.warning, /replacement certificate files were refused/)
    t.ok((await expiryMetric(stack, 'esb_client_refused')) !== undefined, 'the refused certificate has its own metric series')
  })

  await t.test('an unreadable certificate path: refused, naming the path', async (t) => {
    const refused = next('certificate.refused')
    rmSync(stack.paths.clientCert)
    await refused
    const r = await probe(stack)
    t.equal(r.status, 200)
    t.match(r.body.checks.certificate.refused?.reason, /^ESB_CERT .* is not readable \(ENOENT\)$/)
    t.match(r.body.checks.certificate.refused?.reason, stack.paths.clientCert)
    t.equal(r.health, 200)
  })

  await t.test('a replacement that ends within 14 days is taken: ready, with a warning, the metric follows', async (t) => {
    const replaced = next('certificate.replaced')
    const soon = issueClientCertificate(stack.pki.ca, 'knack311-short', { days: 5 })
    write(soon.cert, soon.key)
    await replaced
    const r = await probe(stack)
    t.equal(r.status, 200)
    const cert = r.body.checks.certificate
    t.ok(cert.ok)
    t.match(cert.subject, /CN=knack311-short/)
    t.equal(cert.refused, undefined, 'the earlier refusal is cleared')
    t.ok(cert.days_to_expiry !== undefined && cert.days_to_expiry >= 3 && cert.days_to_expiry <= 5, `days_to_expiry ${cert.days_to_expiry}`)
    t.match(cert.warning, /expires in \d+ days/)
    t.equal(await expiryMetric(stack, 'esb_client'), cert.days_to_expiry)
    t.equal(await expiryMetric(stack, 'esb_client_refused'), undefined, 'no refused series any more')
  })

  // Last: closing the store cannot be undone in this stack.
  await t.test('a closed database: 503, liveness still 200', async (t) => {
    await stack.deps?.ledger.close()
    const r = await probe(stack)
    t.equal(r.status, 503)
    t.equal(r.body.checks.database?.ok, false)
    t.match(r.body.checks.database?.message, /database unreachable/)
    t.ok(r.body.checks.certificate.ok, 'the certificate check still passes')
    t.equal(r.health, 200)
  })
})

t.test('an expired client certificate in use: 503', async (t) => {
  const stack = await startStack({ pki: generateTestPki({ days: -1 }) })
  t.teardown(() => stack.close())
  const r = await probe(stack)
  t.equal(r.status, 503)
  t.equal(r.body.status, 'unavailable')
  t.equal(r.body.checks.certificate.ok, false)
  t.match(r.body.checks.certificate.message, /expired/)
  t.ok((r.body.checks.certificate.days_to_expiry ?? 0) < 0, 'negative days to expiry')
  t.ok(r.body.checks.database?.ok, 'the other checks still pass')
  t.equal(r.health, 200, '/healthz stays 200')
})

t.test('a certificate that does not match its key at start-up: 503', async (t) => {
  const pki = generateTestPki()
  const stack = await startStack({ pki: { ...pki, client: { cert: pki.client.cert, key: pki.otherClient.key } } })
  t.teardown(() => stack.close())
  const r = await probe(stack)
  t.equal(r.status, 503)
  t.equal(r.body.checks.certificate.ok, false)
  t.match(r.body.checks.certificate.message, /does not match its key/)
  t.equal(r.health, 200)
})

t.test('ESB_AUTH=basic: no client certificate to check, but a refused ESB_CA replacement still shows', async (t) => {
  const now = new Date('2026-07-15T14:00:00Z')
  t.same(certificateCheck({ used: false }, now), { ok: true, used: false, note: 'ESB_AUTH=basic: no client certificate is presented' })
  const check = certificateCheck({ used: false, refused: { at: now, reason: 'ESB_CA /run/secrets/ca.pem is not a PEM certificate' } }, now)
  t.equal(check.ok, true)
  t.match(check, { refused: { reason: /ESB_CA .* is not a PEM certificate/ }, warning: /refused/ })
})
