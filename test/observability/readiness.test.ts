// /readyz re-reads the client certificate and key on every call: each case writes files over the
// stack's cert paths and asks again. /healthz stays a cheap 200 whatever /readyz says.
import { rmSync, writeFileSync } from 'node:fs'
import t from 'tap'
import { generateTestPki } from '../../src/sandbox/certs.js'
import { startStack } from '../helpers/stack.js'
import type { Stack } from '../../src/sandbox/stack.js'

interface ReadyBody {
  status: string
  checks: Record<string, { ok: boolean; message?: string; warning?: string; days_to_expiry?: number }>
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

function writeClient(stack: Stack, cert: string, key: string) {
  writeFileSync(stack.paths.clientCert, cert)
  writeFileSync(stack.paths.clientKey, key)
}

t.test('readiness follows the certificate files; liveness does not', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const original = { cert: stack.pki.client.cert, key: stack.pki.client.key }

  await t.test('a normal stack is ready and says how long the certificate lasts', async (t) => {
    const r = await probe(stack)
    t.equal(r.status, 200)
    t.equal(r.body.status, 'ok')
    t.ok(r.body.checks.database?.ok, 'database')
    t.ok(r.body.checks.apps?.ok, 'apps')
    const cert = r.body.checks.certificate
    t.ok(cert?.ok, 'certificate')
    t.ok(cert?.days_to_expiry !== undefined && cert.days_to_expiry >= 363 && cert.days_to_expiry <= 365, `days_to_expiry ${cert?.days_to_expiry}`)
    t.equal(cert?.warning, undefined, 'no warning a year out')
    t.equal(r.health, 200)
    t.same(r.healthBody, { status: 'ok' })
  })

  await t.test('an expired client certificate: 503', async (t) => {
    const expired = generateTestPki({ days: -1 })
    writeClient(stack, expired.client.cert, expired.client.key)
    const r = await probe(stack)
    t.equal(r.status, 503)
    t.equal(r.body.status, 'unavailable')
    t.equal(r.body.checks.certificate?.ok, false)
    t.match(r.body.checks.certificate?.message, /expired/)
    t.ok((r.body.checks.certificate?.days_to_expiry ?? 0) < 0, 'negative days to expiry')
    t.ok(r.body.checks.database?.ok, 'the other checks still pass')
    t.equal(r.health, 200, '/healthz stays 200')
  })

  await t.test('a certificate that does not match its key: 503', async (t) => {
    const other = generateTestPki()
    writeClient(stack, original.cert, other.client.key)
    const r = await probe(stack)
    t.equal(r.status, 503)
    t.equal(r.body.checks.certificate?.ok, false)
    t.match(r.body.checks.certificate?.message, /does not match its key/)
    t.equal(r.health, 200)
  })

  await t.test('an unreadable certificate path: 503 naming the path', async (t) => {
    writeClient(stack, original.cert, original.key)
    rmSync(stack.paths.clientCert)
    const r = await probe(stack)
    t.equal(r.status, 503)
    t.equal(r.body.checks.certificate?.ok, false)
    t.match(r.body.checks.certificate?.message, /not readable/)
    t.match(r.body.checks.certificate?.message, stack.paths.clientCert)
    t.equal(r.health, 200)
  })

  await t.test('a certificate that ends within 14 days: ready, with a warning', async (t) => {
    const soon = generateTestPki({ days: 5 })
    writeClient(stack, soon.client.cert, soon.client.key)
    const r = await probe(stack)
    t.equal(r.status, 200)
    const cert = r.body.checks.certificate
    t.ok(cert?.ok)
    t.ok(cert?.days_to_expiry !== undefined && cert.days_to_expiry >= 3 && cert.days_to_expiry <= 5, `days_to_expiry ${cert?.days_to_expiry}`)
    t.match(cert?.warning, /expires in \d+ days/)
    t.equal(r.health, 200)
  })

  await t.test('back to the original files: ready again', async (t) => {
    writeClient(stack, original.cert, original.key)
    const r = await probe(stack)
    t.equal(r.status, 200)
    t.equal(r.body.checks.certificate?.warning, undefined)
  })

  // Last: closing the store cannot be undone in this stack.
  await t.test('a closed database: 503, liveness still 200', async (t) => {
    await stack.deps?.ledger.close()
    const r = await probe(stack)
    t.equal(r.status, 503)
    t.equal(r.body.checks.database?.ok, false)
    t.match(r.body.checks.database?.message, /database unreachable/)
    t.ok(r.body.checks.certificate?.ok, 'only the database check fails')
    t.equal(r.health, 200)
  })
})
