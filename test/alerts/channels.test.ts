// The webhook channels against loopback receivers that check the shapes Slack, Teams workflows
// and knack311's JSON webhook document; what a channel's failure means for the sender.
import t, { type Test } from 'tap'
import { createHttpPoster, checkAnswer } from '../../src/alerts/channels/http.js'
import { createSlackChannel, SLACK_MAX_ITEMS, slackMessage } from '../../src/alerts/channels/slack.js'
import { createTeamsChannel, teamsMessage } from '../../src/alerts/channels/teams.js'
import type { AlertChannel } from '../../src/alerts/channels/types.js'
import { createWebhookChannel } from '../../src/alerts/channels/webhook.js'
import { renderAlert, type RenderContext } from '../../src/alerts/render.js'
import { createScrub } from '../../src/alerts/scrub.js'
import { isChannelFailure } from '../../src/errors.js'
import { startReceiver } from '../helpers/alert-receivers.js'
import { deadDeliveries, sampleAlerts } from './samples.js'

const ctx: RenderContext = { timezone: 'America/Chicago', publicUrl: 'https://knack311.example.org', scrub: createScrub([]) }
const messages = sampleAlerts().map((a) => renderAlert(a, ctx))
const deadMessage = messages.find((m) => m.kind === 'deliveries.dead')!

async function setup(t: Test) {
  const http = createHttpPoster({ timeoutMs: 5000 })
  const receivers = { slack: await startReceiver('slack'), teams: await startReceiver('teams'), webhook: await startReceiver('webhook') }
  t.teardown(async () => {
    await http.close()
    await Promise.all(Object.values(receivers).map((r) => r.close()))
  })
  const channels: Record<'slack' | 'teams' | 'webhook', AlertChannel> = {
    slack: createSlackChannel(receivers.slack.url, http),
    teams: createTeamsChannel(receivers.teams.url, http),
    webhook: createWebhookChannel(receivers.webhook.url, http)
  }
  return { receivers, channels }
}

t.test('every kind of alert reaches each webhook receiver in the shape it documents', async (t) => {
  const { receivers, channels } = await setup(t)
  for (const m of messages) for (const c of Object.values(channels)) await c.send(m)
  for (const r of Object.values(receivers)) {
    t.same(r.problems, [], `${r.kind}: no shape problem`)
    t.equal(r.received.length, messages.length, `${r.kind}: every kind accepted`)
  }
  const slack = receivers.slack.received[0]!.body
  t.equal(slack.text, `${deadMessage.title}: ${deadMessage.summary}`, 'Slack text: the notification line')
  const slackText = JSON.stringify(slack.blocks)
  for (const d of deadDeliveries(12)) t.ok(slackText.includes(d.srNumber) && slackText.includes(d.recordId), `Slack names SR ${d.srNumber}`)
  t.ok(slackText.includes('&lt;script&gt;'), 'Slack mrkdwn control characters escaped')
  t.ok(slackText.includes('<https://knack311.example.org/console/deliveries/100|open>'), 'a link per delivery')

  const card = (receivers.teams.received[0]!.body.attachments as Array<{ content: { body: unknown[]; actions: unknown[] } }>)[0]!.content
  const cardText = JSON.stringify(card.body)
  for (const d of deadDeliveries(12)) t.ok(cardText.includes(d.srNumber), `Teams card names SR ${d.srNumber}`)
  t.ok(cardText.includes('"url":"https://knack311.example.org/console/deliveries/111"'), 'a link per delivery')

  const hook = receivers.webhook.received[0]!
  t.equal(hook.body.kind, 'deliveries.dead')
  t.equal(hook.body.key, 'deliveries.dead:sample')
  t.equal(hook.headers['idempotency-key'], 'deliveries.dead:sample')
  t.equal((hook.body.data as { count: number }).count, 12)
  t.equal((hook.body.items as unknown[]).length, 12)
})

t.test('a long list stays inside Slack and Teams limits and says how many more', async (t) => {
  const { receivers, channels } = await setup(t)
  const big = renderAlert({ ...sampleAlerts().find((a) => a.kind === 'deliveries.dead')!, payload: { count: 300, deliveries: deadDeliveries(100), apps: { 'data-tracker': 300 } } }, ctx)
  await channels.slack.send(big)
  await channels.teams.send(big)
  t.same(receivers.slack.problems, [])
  t.same(receivers.teams.problems, [])
  const blocks = slackMessage(big).blocks
  t.ok(blocks.length <= 50, `${blocks.length} Slack blocks`)
  t.match(JSON.stringify(blocks), `and ${300 - SLACK_MAX_ITEMS} more`)
  t.match(JSON.stringify(teamsMessage(big)), 'and 260 more')
  t.ok(JSON.stringify(teamsMessage(big)).length < 28_000, 'the card stays under Teams\' 28 KB')
})

t.test('failures: down and 5xx are retried, a refused payload is not; the URL never shows', async (t) => {
  const { receivers, channels } = await setup(t)
  const failure = async (c: AlertChannel) => {
    try {
      await c.send(deadMessage)
    } catch (err) {
      return err
    }
    throw new Error('the send did not fail')
  }
  receivers.slack.failWith(503, 'service unavailable')
  const e503 = await failure(channels.slack)
  t.ok(isChannelFailure(e503) && e503.retryable, '503 is retried')
  t.match((e503 as Error).message, /^Slack answered HTTP 503 service unavailable$/)

  receivers.slack.failWith(400, 'invalid_blocks')
  const e400 = await failure(channels.slack)
  t.ok(isChannelFailure(e400) && !e400.retryable, '400 (a payload Slack refuses) is not retried')

  receivers.teams.failWith(404, 'not found')
  const e404 = await failure(channels.teams)
  t.ok(isChannelFailure(e404) && e404.retryable, '404 (a workflow turned off, a URL being fixed) is retried')

  const secretPart = new URL(receivers.webhook.url).pathname.split('/').pop()!
  await receivers.webhook.down()
  const refused = await failure(channels.webhook)
  t.ok(isChannelFailure(refused) && refused.retryable, 'connection refused is retried')
  t.match((refused as Error).message, /connection refused \(ECONNREFUSED\)/)
  t.notOk((refused as Error).message.includes(secretPart), 'the message never holds the URL')
  await receivers.webhook.up()
  await channels.webhook.send(deadMessage)
  t.equal(receivers.webhook.received.length, 1, 'the same channel works once the receiver is back')
})

t.test('Retry-After is honoured', async (t) => {
  const err = (() => {
    try {
      checkAnswer('Slack', { status: 429, body: 'rate_limited', retryAfter: '30' })
    } catch (e) {
      return e
    }
    return undefined
  })()
  t.ok(isChannelFailure(err) && err.retryable && err.retryAfterMs === 30_000)
  t.doesNotThrow(() => checkAnswer('Teams', { status: 202, body: '', retryAfter: undefined }), '2xx is taken')
})
