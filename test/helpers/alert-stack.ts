// The sandbox stack with every alert channel pointed at loopback stand-ins: Slack, Teams and JSON
// webhook receivers and a TLS SMTP server (its CA handed to the e-mail channel), PUBLIC_URL set.
import { generateTestPki, type TestPki } from '../../src/sandbox/certs.js'
import { createAlertChannels } from '../../src/alerts/channels/create.js'
import type { Stack, StackOptions } from '../../src/sandbox/stack.js'
import { startReceiver, type Receiver } from './alert-receivers.js'
import { startSmtpServer, type SmtpTestServer } from './smtp.js'
import { startStack, waitFor } from './stack.js'

export const PUBLIC_URL = 'https://knack311.example.org'
export const EMAIL_TO = ['data-team@example.org', 'oncall@example.org']

export interface AlertStack {
  stack: Stack
  slack: Receiver
  teams: Receiver
  webhook: Receiver
  smtp: SmtpTestServer
  smtpPki: TestPki
  receivers: Receiver[]
  close(): Promise<void>
}

let smtpPki: TestPki | undefined

export async function startAlertStack(opts: StackOptions = {}): Promise<AlertStack> {
  smtpPki ??= generateTestPki()
  const [slack, teams, webhook, smtp] = await Promise.all([
    startReceiver('slack'),
    startReceiver('teams'),
    startReceiver('webhook'),
    startSmtpServer(smtpPki, { implicitTls: true })
  ])
  const env = {
    ALERT_SLACK_URL: slack.url,
    ALERT_TEAMS_URL: teams.url,
    ALERT_WEBHOOK_URL: webhook.url,
    SMTP_URL: smtp.url,
    ALERT_EMAIL_FROM: 'knack311@example.org',
    ALERT_EMAIL_TO: EMAIL_TO.join(', '),
    PUBLIC_URL,
    ...opts.env
  }
  const alertChannels = createAlertChannels(
    {
      slackUrl: env.ALERT_SLACK_URL,
      teamsUrl: env.ALERT_TEAMS_URL,
      webhookUrl: env.ALERT_WEBHOOK_URL,
      email: { smtpUrl: env.SMTP_URL, from: env.ALERT_EMAIL_FROM, to: EMAIL_TO },
      stuckAfterMs: 0,
      groupWindowMs: 0
    },
    { email: { ca: smtpPki.ca.cert } }
  )
  const stack = await startStack({ ...opts, env, deps: { alertChannels, ...opts.deps } })
  const receivers = [slack, teams, webhook]
  return {
    stack,
    slack,
    teams,
    webhook,
    smtp,
    smtpPki,
    receivers,
    async close() {
      await stack.close()
      await Promise.all([...receivers.map((r) => r.close()), smtp.close()])
    }
  }
}

/** Wait until the outbox has nothing left to send or gather (every send settled). */
export async function waitOutboxSettled(stack: Stack, timeoutMs = 20_000): Promise<void> {
  const store = stack.deps!.ledger.alerts
  await waitFor(async () => {
    const queues = await store.channelQueues()
    const recent = await store.recent(500)
    return queues.every((q) => q.pending === 0) && recent.length > 0 && recent.every((a) => a.sends.every((s) => s.status !== 'pending'))
  }, timeoutMs, 'every alert to be sent')
}
