// ESB_AUTH through the whole service: the simulator sees the Basic user and/or the client
// certificate each message came with; a wrong password pauses sending (saying why in /readyz)
// and kills nothing; the password appears in no log line, answer or metric.
import t, { type Test } from 'tap'
import type { Stack } from '../../src/sandbox/stack.js'
import { captureLogs } from '../helpers/logs.js'
import { activity, adminHeaders, knackRecord, postWebhook, startStack, waitFor, waitForStatus } from '../helpers/stack.js'
import { waitForIdle, waitForKnackStatus } from '../helpers/pipeline.js'

const app = 'data-tracker'
const USER = 'knack311-svc'
const PASSWORD = 'Tr0ub4dor&3-secret'

async function sendOne(t: Test, stack: Stack) {
  const act = activity()
  stack.seed(app, [act])
  const res = await postWebhook(stack, app, knackRecord(stack, app, act.id))
  t.equal(res.statusCode, 202)
  return { act, id: res.json<{ delivery: number }>().delivery }
}

t.test('ESB_AUTH=basic: the Basic header, no client certificate', async (t) => {
  const stack = await startStack({
    esb: { clientCertificate: 'optional', basic: { username: USER, password: PASSWORD } },
    env: { ESB_AUTH: 'basic', ESB_USERNAME: USER, ESB_PASSWORD: PASSWORD }
  })
  t.teardown(() => stack.close())
  const { id } = await sendOne(t, stack)
  t.equal((await waitForStatus(stack, id, ['sent', 'dead'], 15_000)).status, 'sent')
  t.equal(stack.esbSim.received[0]?.basicUser, USER)
  t.equal(stack.esbSim.received[0]?.clientCN, '', 'no client certificate presented')
  const ready = await stack.app!.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.match(ready.json(), { checks: { certificate: { ok: true, used: false } } }, 'no certificate to check')
})

t.test('ESB_AUTH=mtls+basic: both on every message', async (t) => {
  const stack = await startStack({
    esb: { basic: { username: USER, password: PASSWORD } },
    env: { ESB_AUTH: 'mtls+basic', ESB_USERNAME: USER, ESB_PASSWORD: PASSWORD }
  })
  t.teardown(() => stack.close())
  const { id } = await sendOne(t, stack)
  t.equal((await waitForStatus(stack, id, ['sent', 'dead'], 15_000)).status, 'sent')
  t.equal(stack.esbSim.received[0]?.basicUser, USER)
  t.equal(stack.esbSim.received[0]?.clientCN, 'knack311-client')
})

t.test('a wrong password: sending pauses with the reason in /readyz, nothing dies, the password nowhere', async (t) => {
  const { logger, lines } = captureLogs('debug')
  const stack = await startStack({
    logger,
    esb: { clientCertificate: 'optional', basic: { username: USER, password: 'what-the-ESB-expects' } },
    // A schedule that would kill every delivery within a second if a 401 counted against it.
    env: { ESB_AUTH: 'basic', ESB_USERNAME: USER, ESB_PASSWORD: PASSWORD, RETRY_SCHEDULE: '50ms,100ms', ESB_PAUSE_AFTER: '3', ESB_PROBE_EVERY: '100ms', LOG_LEVEL: 'debug' }
  })
  t.teardown(() => stack.close())
  const acts = Array.from({ length: 4 }, () => activity())
  stack.seed(app, acts)
  for (const a of acts) await postWebhook(stack, app, knackRecord(stack, app, a.id))

  const esb = await waitFor(async () => {
    const body = (await stack.app!.inject({ method: 'GET', url: '/readyz' })).json<{ checks: { esb: { state: string; cause?: string; reason?: string; last_error?: string } } }>()
    return body.checks.esb.state === 'paused' ? body.checks.esb : undefined
  }, 15_000, 'sending to pause')
  t.equal(esb.cause, 'credentials')
  t.match(esb.reason, /refused the credentials/)
  t.match(esb.last_error, /^HTTP 401 /)
  // Several probes later, still nothing dead and no attempt used.
  await waitFor(() => (stack.esbSim.stats.unauthorized >= 8 ? true : undefined), 15_000, 'probes refused')
  const rows = await stack.deps!.ledger.list({ app, limit: 10 })
  t.same(rows.filter((r) => r.status === 'dead'), [], 'no delivery died')
  t.same(rows.map((r) => r.attempts), [0, 0, 0, 0], 'no attempt used')

  // Whatever a person or a scraper can see holds no password.
  const seen = [
    ...lines,
    (await stack.app!.inject({ method: 'GET', url: '/readyz' })).body,
    (await stack.app!.inject({ method: 'GET', url: '/metrics' })).body,
    (await stack.app!.inject({ method: 'GET', url: `/deliveries?app=${app}`, headers: adminHeaders(stack) })).body,
    ...(await Promise.all(rows.map(async (r) => (await stack.app!.inject({ method: 'GET', url: `/deliveries/${r.id}`, headers: adminHeaders(stack) })).body)))
  ].join('\n')
  t.ok(lines.length > 10, `logs captured (${lines.length} lines)`)
  t.ok(lines.some((l) => /"msg":"ESB sending paused"/.test(l) && /refused the credentials/.test(l)), 'the pause is logged with its reason')
  const encoded = Buffer.from(`${USER}:${PASSWORD}`).toString('base64')
  t.notOk(seen.includes(PASSWORD), 'no password in logs, /readyz, /metrics or /deliveries')
  t.notOk(seen.includes(encoded), 'nor the Basic header')

  // The ESB is given the password the service has: the next probe resumes sending.
  stack.esbSim.requireBasic({ username: USER, password: PASSWORD })
  await waitForKnackStatus(stack, app, acts.map((a) => a.id), 'SENT', 10_000)
  await waitForIdle(stack)
  t.same(stack.esbSim.received.map((m) => m.basicUser), [USER, USER, USER, USER])
})
