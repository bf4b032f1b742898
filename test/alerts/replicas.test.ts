// Two replicas (child processes) on one PostgreSQL schema: every alert goes out once — the dead
// deliveries both replicas see gathered into one alert, a stuck backlog both notice alerted once
// when it begins and once when it clears. Needs KNACK311_TEST_PG; without it, reported skipped.
import type pg from 'pg'
import t from 'tap'
import { startReceiver } from '../helpers/alert-receivers.js'
import { startServiceChild, type ServiceChild } from '../helpers/child.js'
import { activity, startStack, waitFor } from '../helpers/stack.js'
import { testSchema } from '../helpers/pg-schema.js'

const url = process.env.KNACK311_TEST_PG
const app = 'data-tracker'

if (!url) {
  t.plan(0, 'alerts on replicas skipped: KNACK311_TEST_PG is not set (e.g. postgres://postgres@127.0.0.1:5432/test)')
} else {
  t.test('two replicas on one PostgreSQL schema: each alert once', async (t) => {
    const { schema, db, databaseUrl } = await testSchema(t, url, 'k311_alerts')
    const [slack, webhook] = await Promise.all([startReceiver('slack'), startReceiver('webhook')])
    t.teardown(() => Promise.all([slack.close(), webhook.close()]))
    const stack = await startStack({
      buildService: false,
      env: {
        DATABASE_URL: databaseUrl,
        LEASE_DURATION: '5s',
        ESB_TIMEOUT: '2s',
        // Long enough that the ESB's outage below kills nothing.
        RETRY_SCHEDULE: '500ms,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s',
        KNACK_RATE_LIMIT: '5',
        ALERT_SLACK_URL: slack.url,
        ALERT_WEBHOOK_URL: webhook.url,
        ALERT_GROUP_WINDOW: '6s',
        ALERT_STUCK_AFTER: '1s'
      }
    })
    t.teardown(() => stack.close())
    const children: ServiceChild[] = []
    t.teardown(() => Promise.all(children.map((c) => c.kill('SIGKILL'))))
    const started = await Promise.allSettled([startServiceChild(stack.env, 60_000), startServiceChild(stack.env, 60_000)])
    for (const s of started) if (s.status === 'fulfilled') children.push(s.value)
    const [a, b] = children
    if (!a || !b) throw (started.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason
    const auth = { authorization: `Bearer ${stack.env.ADMIN_TOKEN ?? ''}` }
    const withOutput = (err: Error) => {
      throw new Error(`${err.message}\n--- a ---\n${a.output().slice(-3000)}\n--- b ---\n${b.output().slice(-3000)}`)
    }
    const q = async <T extends pg.QueryResultRow>(sql: string) => (await db.query<T>(sql.replaceAll('$schema', schema))).rows
    const settled = (kinds: string[]) =>
      waitFor(async () => {
        const alerts = await q<{ kind: string }>('SELECT kind FROM $schema.alerts')
        const pending = await q<{ n: string }>(`SELECT COUNT(*) AS n FROM $schema.alert_sends WHERE status <> 'sent'`)
        const waiting = await q<{ n: string }>('SELECT COUNT(*) AS n FROM $schema.alert_group_items WHERE alert_id IS NULL')
        const have = new Set(alerts.map((x) => x.kind))
        return kinds.every((k) => have.has(k)) && pending[0]?.n === '0' && waiting[0]?.n === '0' ? alerts : undefined
      }, 60_000, `alerts ${kinds.join(', ')} written and sent`).catch(withOutput)
    const keysAtWebhook = () => webhook.received.map((r) => String(r.body.key))

    await t.test('dead deliveries on both replicas: one grouped alert, sent once per channel', async (t) => {
      const acts = Array.from({ length: 12 }, (_, i) => activity({ activityName: `No Such Activity ${i}` }))
      stack.seed(app, acts)
      const allDead = (ids: string[]) =>
        waitFor(async () => {
          const rows = await q<{ status: string }>(`SELECT status FROM $schema.deliveries WHERE record_id IN (${ids.map((x) => `'${x}'`).join(', ')})`)
          return rows.length === ids.length && rows.every((r) => r.status === 'dead')
        }, 60_000, `${ids.length} to be dead`).catch(withOutput)
      // Half through each replica (its intake wakes its own worker), so both announce deaths.
      for (const [replica, half] of [[a, acts.slice(0, 6)], [b, acts.slice(6)]] as const) {
        for (const act of half) {
          const res = await fetch(`${replica.url}/webhooks/knack/${app}`, {
            method: 'POST',
            headers: { 'x-webhook-token': stack.env.WEBHOOK_SECRET ?? '', 'content-type': 'application/json' },
            body: JSON.stringify({ id: act.id })
          })
          t.equal(res.status, 202)
        }
        await allDead(half.map((x) => x.id))
      }
      const deadOn = await Promise.all(
        [a, b].map(async (c) => Number((await (await fetch(`${c.url}/metrics`)).text()).match(/knack311_deliveries_total\{app="data-tracker",outcome="dead"\} (\d+)/)?.[1] ?? '0'))
      )
      t.ok(deadOn.every((n) => n > 0), `both replicas saw deaths (${deadOn.join(' + ')})`)
      await settled(['deliveries.dead'])
      t.equal(slack.received.length, 1, 'Slack: one alert')
      t.same(keysAtWebhook().filter((k) => k.startsWith('deliveries.dead:')).length, 1, 'the webhook: one alert')
      const text = webhook.texts()[0] ?? ''
      for (const act of acts) t.ok(text.includes(act.srNumber), `names SR ${act.srNumber}`)
    })

    await t.test('a stuck backlog both replicas see: one alert when it begins, one when it clears', async (t) => {
      stack.esbSim.mode({ status: 503 })
      const acts = Array.from({ length: 4 }, () => activity())
      stack.seed(app, acts)
      await Promise.all([a, b].map((c) => fetch(`${c.url}/apps/${app}/sweep`, { method: 'POST', headers: auth })))
      await waitFor(() => keysAtWebhook().some((k) => k.startsWith('delivery.stuck:')), 60_000, 'the stuck alert').catch(withOutput)
      stack.esbSim.mode('ok')
      await waitFor(() => keysAtWebhook().some((k) => k.startsWith('delivery.unstuck:')), 60_000, 'the cleared alert').catch(withOutput)
      const alerts = await settled(['deliveries.dead', 'delivery.stuck', 'delivery.unstuck'])
      const keys = keysAtWebhook()
      t.equal(new Set(keys).size, keys.length, `no alert twice at the webhook (${keys.join(', ')})`)
      t.equal(keys.length, alerts.length, 'every alert written reached the webhook')
      t.equal(slack.received.length, alerts.length, 'and Slack, once each')
      t.equal(keys.filter((k) => k.startsWith('delivery.stuck:')).length, 1, 'one stuck alert')
      t.equal(keys.filter((k) => k.startsWith('delivery.unstuck:')).length, 1, 'one cleared alert')
      t.same([...slack.problems, ...webhook.problems], [])
    })
  })
}
