// Alerts from the ESB module's own announcements, against the real ESB simulator: the ESB down
// long enough to pause → one "paused" alert, then one "resumed" saying for how long; certificate
// files replaced under the running service → "replaced", a broken pair → "refused", and the
// expiry watch follows the certificate now in use.
import { X509Certificate } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import t from 'tap'
import { generateTestPki, issueClientCertificate } from '../../src/sandbox/certs.js'
import { activity, adminHeaders, waitFor } from '../helpers/stack.js'
import { startAlertStack, waitOutboxSettled } from '../helpers/alert-stack.js'

const app = 'data-tracker'
const FAST = { tickMs: 100, backoffBaseMs: 50, backoffMaxMs: 400, certificateEveryMs: 0 }

t.test('the ESB down long enough to pause: one paused alert, then one resumed with the duration', async (t) => {
  const a = await startAlertStack({
    env: { RETRY_SCHEDULE: '100ms,200ms,400ms', ESB_PAUSE_AFTER: '3', ESB_PROBE_EVERY: '100ms' },
    deps: { alertOptions: FAST }
  })
  t.teardown(() => a.close())
  const { stack } = a
  const acts = Array.from({ length: 6 }, (_, i) => activity({ srNumber: `26-P-${i % 3}` }))
  stack.seed(app, acts)
  await stack.esbSim.down()
  await stack.app!.inject({ method: 'POST', url: `/apps/${app}/sweep`, headers: adminHeaders(stack) })
  const paused = await waitFor(() => a.webhook.received.find((r) => r.body.kind === 'esb.paused'), 30_000, 'the paused alert')
  t.equal(paused.body.title, 'Sending to the ESB is paused')
  t.match(JSON.stringify(paused.body.facts), /"name":"Last error","value":"[^"]*connection refused/)
  // Stay down through several probes: each failed probe must not alert again.
  const probes = async () => (await Promise.all((await stack.deps!.ledger.list({ app, limit: 100 })).map((d) => stack.deps!.ledger.attempts(d.id)))).flat().filter((x) => x.step === 'esb').length
  const before = await probes()
  await waitFor(async () => (await probes()) >= before + 3, 30_000, 'three more probes while paused')
  await stack.esbSim.up()
  const resumed = await waitFor(() => a.webhook.received.find((r) => r.body.kind === 'esb.resumed'), 30_000, 'the resumed alert')
  await waitFor(async () => (await stack.deps!.ledger.list({ app, limit: 100 })).every((d) => d.status === 'sent'), 30_000, 'everything sent')
  await waitOutboxSettled(stack)

  const data = resumed.body.data as { pausedSince: string; resumedAt: string }
  t.equal(data.pausedSince, (paused.body.data as { since: string }).since, 'the resume names the pause it ends')
  const pausedMs = Date.parse(data.resumedAt) - Date.parse(data.pausedSince)
  t.ok(pausedMs > 0, `paused for ${pausedMs} ms`)
  t.match(String(resumed.body.title), /^Sending to the ESB resumed after \d+ (s|min)/, 'the title says how long')
  t.match(JSON.stringify(resumed.body.facts), /"name":"Paused for"/)
  for (const r of a.receivers) {
    t.equal(r.received.filter((x) => JSON.stringify(x.body).includes('Sending to the ESB is paused')).length, 1, `${r.kind}: one paused alert`)
    t.equal(r.received.filter((x) => JSON.stringify(x.body).includes('Sending to the ESB resumed')).length, 1, `${r.kind}: one resumed alert`)
    t.same(r.problems, [])
  }
  t.equal(a.smtp.received.filter((m) => m.parsed.subject?.includes('paused')).length, 1, 'one paused e-mail')
  t.equal(a.smtp.received.filter((m) => m.parsed.subject?.includes('resumed')).length, 1, 'one resumed e-mail')
})

t.test('certificate files replaced under the running service: replaced, refused, and the expiry of the one in use', async (t) => {
  const a = await startAlertStack({ esbCertPollMs: 25, deps: { alertOptions: FAST } })
  t.teardown(() => a.close())
  const { stack } = a
  const write = (cert: string, key: string) => {
    writeFileSync(stack.paths.clientCert, cert)
    writeFileSync(stack.paths.clientKey, key)
  }
  await stack.app!.service.alerts.tick()
  t.notOk((await stack.deps!.ledger.alerts.recent(50)).some((x) => x.kind === 'certificate.expiring'), 'a year left: no expiry alert')

  // The City's re-issue, valid for 5 days only.
  const renewed = issueClientCertificate(stack.pki.ca, 'knack311-client-reissued', { days: 5 })
  write(renewed.cert, renewed.key)
  const replaced = await waitFor(() => a.webhook.received.find((r) => r.body.kind === 'certificate.replaced'), 20_000, 'the replaced alert')
  t.match(JSON.stringify(replaced.body.facts), /CN=knack311-client-reissued/)
  const expiring = await waitFor(() => a.webhook.received.find((r) => r.body.kind === 'certificate.expiring'), 20_000, 'the expiry alert for the new certificate')
  t.equal(expiring.body.title, 'The ESB client certificate expires in 5 days')
  t.match(JSON.stringify(expiring.body.facts), /CN=knack311-client-reissued/)
  t.equal((expiring.body.data as { threshold: number }).threshold, 7)
  t.match(String(expiring.body.key), new X509Certificate(renewed.cert).fingerprint256, 'keyed by the certificate in use')

  write(issueClientCertificate(stack.pki.ca, 'knack311-bad-pair').cert, generateTestPki().client.key)
  const refused = await waitFor(() => a.webhook.received.find((r) => r.body.kind === 'certificate.refused'), 20_000, 'the refused alert')
  t.match(JSON.stringify(refused.body.facts), /does not match its key/)
  await waitOutboxSettled(stack)
  for (const kind of ['certificate.replaced', 'certificate.expiring', 'certificate.refused']) {
    t.equal(a.webhook.received.filter((r) => r.body.kind === kind).length, 1, `one ${kind}`)
  }
})

