// A crash loses no alert and a restart repeats none: the service (a child process on SQLite) is
// SIGKILLed with one alert written but refused by a channel (503) and the same alert's send to
// another channel in flight; the next process sends each of them once, and repeats nothing the
// first one had already sent. E-mail goes through a TLS SMTP server trusted via NODE_EXTRA_CA_CERTS.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { generateTestPki } from '../../src/sandbox/certs.js'
import { startReceiver } from '../helpers/alert-receivers.js'
import { startServiceChild, type ServiceChild } from '../helpers/child.js'
import { startSmtpServer } from '../helpers/smtp.js'
import { activity, startStack, waitFor } from '../helpers/stack.js'

const app = 'data-tracker'

t.test('SIGKILL between writing and sending an alert: sent after the restart, once', async (t) => {
  const smtpPki = generateTestPki()
  const [slack, webhook, smtp] = await Promise.all([startReceiver('slack'), startReceiver('webhook'), startSmtpServer(smtpPki, { implicitTls: true })])
  const stack = await startStack({
    buildService: false,
    env: {
      ALERT_SLACK_URL: slack.url,
      ALERT_WEBHOOK_URL: webhook.url,
      SMTP_URL: smtp.url,
      ALERT_EMAIL_FROM: 'knack311@example.org',
      ALERT_EMAIL_TO: 'oncall@example.org',
      ALERT_GROUP_WINDOW: '1s',
      PUBLIC_URL: 'https://knack311.example.org'
    }
  })
  const caPath = join(stack.dir, 'smtp-ca.pem')
  writeFileSync(caPath, smtpPki.ca.cert)
  t.teardown(async () => {
    await stack.close()
    await Promise.all([slack.close(), webhook.close(), smtp.close()])
  })
  const children: ServiceChild[] = []
  t.teardown(async () => {
    await Promise.all(children.map((c) => c.kill('SIGKILL')))
  })
  const env = { ...stack.env, NODE_EXTRA_CA_CERTS: caPath }
  const auth = { authorization: `Bearer ${stack.env.ADMIN_TOKEN ?? ''}` }

  webhook.failWith(503)
  slack.hang(true)
  const first = await startServiceChild(env)
  children.push(first)
  const acts = [activity({ activityName: 'Nobody Knows This One' }), activity({ activityName: 'Nor This One' })]
  stack.seed(app, acts)
  const sweep = await fetch(`${first.url}/apps/${app}/sweep`, { method: 'POST', headers: auth })
  t.equal(sweep.status, 200)

  await smtp.waitFor(1, 30_000)
  await waitFor(() => webhook.attempts >= 1 && slack.attempts >= 1, 30_000, 'the webhook refused and the Slack send in flight')
  t.equal(slack.received.length, 0, 'Slack has not answered')
  t.equal(webhook.received.length, 0, 'the webhook refused it')
  await first.kill('SIGKILL')

  slack.hang(false)
  webhook.failWith(null)
  const second = await startServiceChild(env)
  children.push(second)
  await Promise.all([slack.waitFor(1, 30_000), webhook.waitFor(1, 30_000)]).catch((err: Error) => {
    throw new Error(`${err.message}\n--- second child ---\n${second.output()}`)
  })
  const settled = await waitFor(async () => {
    const res = await fetch(`${second.url}/alerts`, { headers: auth })
    const body = (await res.json()) as { alerts: Array<{ kind: string; sends: Array<{ channel: string; status: string }> }> }
    return body.alerts.length > 0 && body.alerts.every((a) => a.sends.every((s) => s.status === 'sent')) ? body.alerts : undefined
  }, 30_000, 'every send marked sent')
  t.same(settled.map((a) => a.kind), ['deliveries.dead'], 'one alert')
  t.equal(slack.received.length, 1, 'Slack: once, after the restart')
  t.equal(webhook.received.length, 1, 'the webhook: once, after the restart')
  t.equal(smtp.received.length, 1, 'e-mail: sent before the crash, not repeated')
  const text = webhook.texts()[0] ?? ''
  for (const act of acts) t.ok(text.includes(act.srNumber), `names SR ${act.srNumber}`)
  t.match(second.output(), /resending alerts an earlier process was sending when it stopped/, 'the in-flight send was released at start')
  t.same([...slack.problems, ...webhook.problems], [])
})
