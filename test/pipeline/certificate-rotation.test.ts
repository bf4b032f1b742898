// Certificate files replaced under the running service (the City has had re-issues and expiries):
// the next message reaches the ESB with the new certificate, without a restart; a mismatched pair
// is refused and the old one kept. Both are announced on the events bus.
import { writeFileSync } from 'node:fs'
import t from 'tap'
import type { ServiceEvent } from '../../src/events/types.js'
import { generateTestPki, issueClientCertificate } from '../../src/sandbox/certs.js'
import { activity, knackRecord, postWebhook, startStack, waitFor, waitForStatus } from '../helpers/stack.js'

const app = 'data-tracker'

t.test('replaced under a running service: the next message goes with the new certificate; a mismatched pair is refused', async (t) => {
  const stack = await startStack({ esbCertPollMs: 25 })
  t.teardown(() => stack.close())
  const events: ServiceEvent[] = []
  stack.app!.service.events.on((e) => void events.push(e))
  const sendOne = async () => {
    const act = activity()
    stack.seed(app, [act])
    const id = (await postWebhook(stack, app, knackRecord(stack, app, act.id))).json<{ delivery: number }>().delivery
    t.equal((await waitForStatus(stack, id, ['sent', 'dead'], 15_000)).status, 'sent')
    return stack.esbSim.received.find((m) => m.values.id === act.id)?.clientCN
  }
  const write = (cert: string, key: string) => {
    writeFileSync(stack.paths.clientCert, cert)
    writeFileSync(stack.paths.clientKey, key)
  }

  t.equal(await sendOne(), 'knack311-client', 'first with the certificate it started with')

  const renewed = issueClientCertificate(stack.pki.ca, 'knack311-client-reissued')
  write(renewed.cert, renewed.key)
  const replaced = await waitFor(() => events.find((e) => e.type === 'certificate.replaced'), 10_000, 'certificate.replaced')
  t.match(replaced.type === 'certificate.replaced' && replaced.subject, /CN=knack311-client-reissued/)
  t.equal(await sendOne(), 'knack311-client-reissued', 'the next message has the new CN, no restart')

  write(issueClientCertificate(stack.pki.ca, 'knack311-bad-pair').cert, generateTestPki().client.key)
  const refused = await waitFor(() => events.find((e) => e.type === 'certificate.refused'), 10_000, 'certificate.refused')
  t.match(refused.type === 'certificate.refused' && refused.reason, /does not match its key/)
  t.equal(await sendOne(), 'knack311-client-reissued', 'the pair in use is kept')
  t.equal(stack.esbSim.tlsRejections, 0, 'the ESB never saw the broken pair')
})
