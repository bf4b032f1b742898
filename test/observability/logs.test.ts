// What the service writes to its log while it works: JSON lines, no secret or PEM material, and
// every line about a delivery names the delivery, its app and its record.
import { Writable } from 'node:stream'
import t from 'tap'
import { createLogger } from '../../src/observability/logger.js'
import { activity, adminHeaders, postWebhook, startStack, waitFor, waitForStatus } from '../helpers/stack.js'

const APP = 'data-tracker'

/** A pino destination that keeps every line. */
function collector() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''))
      done()
    }
  })
  return { lines, stream }
}

t.test('createLogger: JSON to a given destination, secrets redacted', async (t) => {
  const { lines, stream } = collector()
  const log = createLogger({ level: 'info', destination: stream })
  log.info({ req: { headers: { authorization: 'Bearer hunter2', 'x-webhook-token': 'tok-1' } } }, 'a request')
  log.info({ opts: { apiKey: 'key-1', key: '-----BEGIN PRIVATE KEY-----', cert: '-----BEGIN CERTIFICATE-----' } }, 'options')
  log.info({ headers: { 'x-knack-rest-api-key': 'key-2' } }, 'outbound')
  log.info({ esb: { username: 'svc', password: 'pw-esb-1' } }, 'ESB options')
  log.debug('below the level')
  await new Promise((r) => setImmediate(r))
  t.equal(lines.length, 4)
  const text = lines.join('\n')
  for (const secret of ['hunter2', 'tok-1', 'key-1', 'key-2', 'BEGIN', 'pw-esb-1']) t.notOk(text.includes(secret), `${secret} redacted`)
  for (const line of lines) t.doesNotThrow(() => JSON.parse(line), 'a JSON line')
  t.match(JSON.parse(lines[0] ?? '{}'), { msg: 'a request', req: { headers: { authorization: '[redacted]' } } })
})

t.test('a working day of the service logs no secret and names every delivery', async (t) => {
  const { lines, stream } = collector()
  const stack = await startStack({ logger: createLogger({ level: 'debug', destination: stream }), env: { RETRY_SCHEDULE: '50ms,50ms,50ms,1h' } })
  t.teardown(() => stack.close())
  const admin = adminHeaders(stack)
  const inject = stack.app!.inject.bind(stack.app!)

  // Webhooks: a good one (full record), an id-only one, a wrong token, a bad body, an unknown app.
  const first = activity()
  const second = activity()
  stack.seed(APP, [first, second])
  const a = stack.appConfig(APP)
  const full = stack.knackSim.getRecord(a.credentials.appId, a.obj, first.id)
  const hook1 = await postWebhook(stack, APP, full)
  t.equal(hook1.statusCode, 202, hook1.body)
  const hook2 = await postWebhook(stack, APP, { id: second.id })
  t.equal(hook2.statusCode, 202, hook2.body)
  t.equal((await postWebhook(stack, APP, { id: first.id }, { 'x-webhook-token': 'wrong' })).statusCode, 401)
  t.equal((await postWebhook(stack, APP, '{"id": 12')).statusCode, 400)
  t.equal((await postWebhook(stack, 'nope', { id: first.id })).statusCode, 404)
  await waitForStatus(stack, hook1.json<{ delivery: number }>().delivery, ['sent'], 30_000)
  await waitForStatus(stack, hook2.json<{ delivery: number }>().delivery, ['sent'], 30_000)

  // A sweep with an ESB fault, a Knack failure on the status update, a skip and a dead record.
  stack.esbSim.failNext(1, { code: 'soap:Server', string: 'CSR database unavailable' })
  stack.knackSim.failNext(1, { method: 'PUT', status: 503 })
  stack.seed(APP, [activity({ srNumber: 'SR-LOG-1' }), activity({ activityName: 'Post Tweet' }), activity({ activityName: 'Recalibrate Flux Capacitor' })])
  const sweep = await inject({ method: 'POST', url: `/apps/${APP}/sweep?wait=true&timeout=30s`, headers: admin })
  t.equal(sweep.statusCode, 200, sweep.body)
  const ids = (await stack.deps!.ledger.list({ app: APP, limit: 100 })).map((d) => d.id)
  for (const id of ids) await waitForStatus(stack, id, ['sent', 'skipped', 'dead'], 30_000)

  // A Knack failure the caller sees: the record read for an id-only webhook answers 401.
  stack.knackSim.failNext(1, { method: 'GET', status: 401 })
  t.equal((await postWebhook(stack, APP, { id: 'a00000000000000000000000' })).statusCode, 502)

  // A resend, a preview, the admin reads and the health routes.
  const resend = await inject({ method: 'POST', url: `/apps/${APP}/records/${first.id}/resend?wait=10s`, headers: admin })
  t.equal(resend.statusCode, 200, resend.body)
  t.equal((await inject({ method: 'GET', url: `/apps/${APP}/records/${first.id}/preview`, headers: admin })).statusCode, 200)
  t.equal((await inject({ method: 'GET', url: '/deliveries', headers: admin })).statusCode, 200)
  t.equal((await inject({ method: 'GET', url: '/deliveries', headers: { authorization: 'Bearer wrong' } })).statusCode, 401)
  t.equal((await inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
  t.equal((await inject({ method: 'GET', url: '/metrics' })).statusCode, 200)
  await waitFor(() => lines.some((l) => l.includes('"delivery done"')) || undefined, 10_000, 'delivery logs')

  t.ok(lines.length > 20, `${lines.length} log lines captured`)
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
  t.ok(parsed.some((l) => l.msg === 'sweep finished'), 'the sweep is logged')
  t.ok(parsed.some((l) => l.msg === 'delivery will retry'), 'the ESB fault or the Knack failure is logged')
  t.ok(parsed.some((l) => l.msg === 'delivery dead'), 'the dead delivery is logged')
  t.ok(parsed.some((l) => typeof l.msg === 'string' && l.msg.startsWith('knack request failed')), 'the Knack 503 is logged')

  const secrets: Record<string, string> = {
    'the Knack API key': stack.env.KNACK_API_KEY!,
    'the webhook secret': stack.env.WEBHOOK_SECRET!,
    'the admin token': stack.env.ADMIN_TOKEN!,
    'a private key': 'PRIVATE KEY',
    'a certificate': 'BEGIN CERTIFICATE'
  }
  for (const [what, secret] of Object.entries(secrets)) {
    const leaks = lines.filter((l) => l.includes(secret))
    t.same(leaks, [], `no line holds ${what}`)
  }

  const aboutDeliveries = parsed.filter((l) => 'delivery' in l)
  t.ok(aboutDeliveries.length >= 6, `${aboutDeliveries.length} lines about deliveries`)
  const unnamed = aboutDeliveries.filter((l) => typeof l.app !== 'string' || typeof l.record !== 'string')
  t.same(unnamed, [], 'every line about a delivery carries app and record')
})
