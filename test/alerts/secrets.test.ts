// No secret in any alert: a stack holding every kind of secret the service knows (Knack keys, the
// webhook and admin tokens, operators' tokens, the ESB's Basic credentials and key, the SMTP
// password, the Slack/Teams/webhook URLs) sends every kind of alert — some carrying a secret in
// text another system wrote — to every channel; every body, e-mail, header, GET /alerts and log
// line is searched for every secret.
import { Writable } from 'node:stream'
import { pino } from 'pino'
import t from 'tap'
import { ALERT_KINDS } from '../../src/alerts/kinds.js'
import type { ServiceEvent } from '../../src/events/types.js'
import { adminHeaders } from '../helpers/stack.js'
import { startAlertStack, waitOutboxSettled } from '../helpers/alert-stack.js'
import { sampleAlerts } from './samples.js'

t.test('every alert kind on every channel: no secret of the stack anywhere', async (t) => {
  const logs: string[] = []
  const logger = pino({ level: 'debug' }, new Writable({ write(chunk: Buffer, _e, cb) { logs.push(chunk.toString('utf8')); cb() } }))
  const a = await startAlertStack({
    logger,
    env: {
      OPERATOR_TOKENS: 'ana:ana-secret-token-1234,ben:ben-secret-token-5678',
      ESB_AUTH: 'mtls+basic',
      ESB_USERNAME: 'esb-user-9f8e7d',
      ESB_PASSWORD: 'esb-password-0a1b2c3d'
    },
    deps: { alertOptions: { tickMs: 100, backoffBaseMs: 50, backoffMaxMs: 400 } }
  })
  t.teardown(() => a.close())
  const { stack } = a
  const env = stack.env
  const urlTokens = a.receivers.flatMap((r) => {
    const u = new URL(r.url)
    return [r.url, u.pathname + u.search, ...u.pathname.split('/').filter((s) => s.length >= 16), ...[...u.searchParams.values()].filter((v) => v.length >= 16)]
  })
  const secrets: Array<[string, string]> = [
    ['KNACK_APP_ID', env.KNACK_APP_ID!],
    ['KNACK_API_KEY', env.KNACK_API_KEY!],
    ['WEBHOOK_SECRET', env.WEBHOOK_SECRET!],
    ['ADMIN_TOKEN', env.ADMIN_TOKEN!],
    ['an operator token', 'ana-secret-token-1234'],
    ['an operator token', 'ben-secret-token-5678'],
    ['ESB_USERNAME', 'esb-user-9f8e7d'],
    ['ESB_PASSWORD', 'esb-password-0a1b2c3d'],
    ['the SMTP password', a.smtp.password],
    ['SMTP_URL', a.smtp.url],
    ['a line of the ESB key', stack.pki.client.key.split('\n')[5]!],
    ...urlTokens.map((u): [string, string] => ['an alert URL or its token', u])
  ]

  // Text other systems write, echoing secrets: an ESB error, Knack's message, a refused certificate.
  const leak = secrets.map(([, s]) => s).join(' | ')
  const now = new Date()
  const events: ServiceEvent[] = [
    { type: 'delivery.dead', at: now, delivery: { id: 1, app: 'data-tracker', recordId: 'r1', srNumber: 'SR-1' }, reason: `ESB: ${leak}` },
    { type: 'esb.paused', at: now, since: now, lastError: leak },
    { type: 'esb.resumed', at: now, pausedSince: now, lastError: leak },
    { type: 'knack.credentials_refused', at: now, app: env.KNACK_APP_ID!, status: 401, message: leak },
    { type: 'knack.plan_low', at: now, app: env.KNACK_APP_ID!, remaining: 1, limit: 100 },
    { type: 'certificate.refused', at: now, reason: leak }
  ]
  for (const e of events) stack.app!.service.events.emit(e)
  await stack.app!.service.alerts.flushed()
  // Every kind, written as the service writes them, with the secrets in their free text.
  const channels = stack.app!.service.alerts.channels
  for (const sample of sampleAlerts(leak)) {
    await stack.deps!.ledger.alerts.add({ kind: sample.kind, dedupeKey: `secret-test:${sample.kind}`, payload: sample.payload }, channels, new Date())
  }
  const expected = events.length - 1 + ALERT_KINDS.length // the dead delivery waits for its group
  await Promise.all([...a.receivers.map((r) => r.waitFor(expected)), a.smtp.waitFor(expected)])
  await waitOutboxSettled(stack)
  t.same(new Set(a.webhook.received.map((r) => r.body.kind)), new Set(ALERT_KINDS), 'every kind went out')

  const places: Array<[string, string]> = [
    ...a.receivers.flatMap((r) => r.received.map((x, i): [string, string] => [`${r.kind} alert ${i}`, JSON.stringify(x.body) + JSON.stringify(x.headers)])),
    ...a.smtp.received.map((m, i): [string, string] => [`e-mail ${i}`, m.raw]),
    ['GET /alerts', (await stack.app!.inject({ method: 'GET', url: '/alerts?limit=500', headers: adminHeaders(stack) })).body],
    ['the logs', logs.join('')]
  ]
  let checks = 0
  for (const [where, text] of places) {
    for (const [name, secret] of secrets) {
      checks++
      if (text.includes(secret)) t.fail(`${name} appears in ${where}`)
    }
  }
  t.ok(checks > 300, `${checks} searches, no secret found`)
  t.ok(a.webhook.texts().some((x) => x.includes('[redacted]')), 'the echoed secrets show as [redacted]')
  t.ok(logs.length > 10, 'the logs were captured')
})
