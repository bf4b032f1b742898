// The console's overview shows the alerts: which channel is failing (and why, and when it tries
// again), the newest alerts with how each channel took them, and — once the channel is back —
// that every channel is taking alerts again. Every value escaped.
import t from 'tap'
import { ConsoleClient } from '../helpers/console.js'
import { startAlertStack, waitOutboxSettled } from '../helpers/alert-stack.js'
import { waitFor } from '../helpers/stack.js'

const readable = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/\s+/g, ' ')
const section = (html: string) => html.slice(html.indexOf('id="alerts"'), html.indexOf('<div class="cards">'))

t.test('the overview lists recent alerts and any channel that is failing', async (t) => {
  const a = await startAlertStack({ deps: { alertOptions: { tickMs: 100, backoffBaseMs: 50, backoffMaxMs: 400 } } })
  t.teardown(() => a.close())
  const { stack } = a
  const c = new ConsoleClient(stack.app!)
  t.equal((await c.login(stack.env.ADMIN_TOKEN ?? '')).statusCode, 303)

  const quiet = readable(section((await c.get('/console')).body))
  t.match(quiet, /Alerts every channel is taking alerts slack, teams, webhook, email/)
  t.match(quiet, /No alert yet/)

  a.slack.failWith(503, 'service <b>unavailable</b>')
  const since = new Date(Date.now() - 60_000)
  stack.app!.service.events.emit({ type: 'esb.paused', at: since, since, lastError: 'HTTP 404 No such path' })
  stack.app!.service.events.emit({ type: 'knack.plan_low', at: new Date(), app: 'data-tracker', remaining: 100, limit: 25_000 })
  await Promise.all([a.teams.waitFor(2), a.webhook.waitFor(2), a.smtp.waitFor(2)])
  await waitFor(() => a.slack.attempts >= 2, 10_000, 'Slack to fail')
  // A receiver has a message before the outbox records its answer: wait for the records too.
  const store = stack.deps!.ledger.alerts
  await waitFor(async () => {
    const recent = await store.recent(10)
    return recent.length === 2 && recent.every((al) => al.sends.every((s) => s.channel === 'slack' || s.status === 'sent'))
  }, 10_000, 'teams, webhook and email to be recorded sent')

  const failing = await c.get('/console')
  t.equal(failing.statusCode, 200)
  const html = section(failing.body)
  const text = readable(html)
  t.match(text, /slack failing 2 alert\(s\) waiting, \d+ tries last error: Slack answered HTTP 503 service &lt;b&gt;unavailable&lt;\/b&gt; last try .* next try/)
  t.ok(html.includes('service &lt;b&gt;unavailable&lt;/b&gt;'), 'the channel\'s answer is shown escaped')
  t.notMatch(text, /teams failing|email failing|webhook failing/, 'only Slack is failing')
  t.match(text, /warning Knack's daily plan is nearly used up: 100 of 25,000 calls left email: sent slack: pending teams: sent webhook: sent/)
  t.match(text, /critical Sending to the ESB is paused email: sent slack: pending teams: sent webhook: sent/)
  t.ok(text.indexOf("Knack's daily plan") < text.indexOf('Sending to the ESB is paused'), 'newest first')
  t.notOk(failing.body.includes(a.slack.url), 'the Slack URL is not on the page')

  a.slack.failWith(null)
  await a.slack.waitFor(2)
  await waitOutboxSettled(stack)
  const back = readable(section((await c.get('/console')).body))
  t.match(back, /every channel is taking alerts/)
  t.match(back, /Sending to the ESB is paused email: sent slack: sent teams: sent webhook: sent/)
})
