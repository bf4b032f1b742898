// /metrics moves with the work: deliveries by outcome, queue depth, the oldest undelivered age,
// ESB and Knack durations by status, 429s, plan calls left, certificate expiry and sweeps.
import t from 'tap'
import type { Stack } from '../../src/sandbox/stack.js'
import { activity, adminHeaders, startStack, waitFor, waitForStatus } from '../helpers/stack.js'

const APP = 'data-tracker'

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Prometheus text → samples (label values here never hold quotes or commas). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m?.[1] || m[3] === undefined) continue
    const labels: Record<string, string> = {}
    for (const pair of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[pair[1] ?? ''] = pair[2] ?? ''
    samples.push({ name: m[1], labels, value: Number(m[3]) })
  }
  return samples
}

/** Sum of the samples named `name` whose labels include `labels`. undefined when there is none. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  return hits.length === 0 ? undefined : hits.reduce((sum, s) => sum + s.value, 0)
}

async function scrape(stack: Stack): Promise<Sample[]> {
  const res = await stack.app!.inject({ method: 'GET', url: '/metrics' })
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`)
  if (!String(res.headers['content-type']).startsWith('text/plain')) throw new Error(`content-type ${String(res.headers['content-type'])}`)
  return parseMetrics(res.body)
}

async function sweep(stack: Stack) {
  const res = await stack.app!.inject({ method: 'POST', url: `/apps/${APP}/sweep?wait=true&timeout=30s`, headers: adminHeaders(stack) })
  if (res.statusCode !== 200) throw new Error(`sweep answered ${res.statusCode}: ${res.body}`)
  return res.json<{ found: number; settled: boolean; outcomes: Record<string, number> }>()
}

t.test('metrics after deliveries, faults and a 429', async (t) => {
  // A long retry wait keeps a failed delivery pending while we look at it.
  const stack = await startStack({ env: { RETRY_SCHEDULE: '1h' } })
  t.teardown(() => stack.close())

  await t.test('before any work: certificate expiry is already set; nothing delivered', async (t) => {
    const m = await scrape(stack)
    const days = value(m, 'knack311_certificate_days_to_expiry', { cert: 'esb_client' })
    t.ok(days !== undefined && days >= 363 && days <= 365, `certificate days ${days} without any /readyz call`)
    t.notOk(value(m, 'knack311_deliveries_total'), 'no deliveries yet')
    t.equal(value(m, 'knack311_oldest_undelivered_age_seconds'), 0)
    t.equal(value(m, 'knack311_queue_depth', { status: 'queued' }), 0)
    t.equal(value(m, 'knack311_queue_depth', { status: 'sent' }), 0)
  })

  await t.test('a sweep sends, skips and kills; counters, queue depth and durations move', async (t) => {
    stack.seed(APP, [
      activity(),
      activity(),
      activity({ activityName: 'Post Tweet' }),
      activity({ activityName: 'Recalibrate Flux Capacitor' })
    ])
    const r = await sweep(stack)
    t.equal(r.found, 4)
    t.ok(r.settled)
    t.same(r.outcomes, { sent: 2, skipped: 1, dead: 1 })

    const m = await scrape(stack)
    t.equal(value(m, 'knack311_deliveries_total', { app: APP, outcome: 'sent' }), 2)
    t.equal(value(m, 'knack311_deliveries_total', { app: APP, outcome: 'skipped' }), 1)
    t.equal(value(m, 'knack311_deliveries_total', { app: APP, outcome: 'dead' }), 1)
    t.equal(value(m, 'knack311_queue_depth', { status: 'sent' }), 2)
    t.equal(value(m, 'knack311_queue_depth', { status: 'skipped' }), 1)
    t.equal(value(m, 'knack311_queue_depth', { status: 'dead' }), 1)
    t.equal(value(m, 'knack311_oldest_undelivered_age_seconds'), 0, 'nothing pending')
    t.equal(value(m, 'knack311_esb_request_duration_seconds_count', { status: '200' }), 2, 'two ESB posts answered 200')
    t.ok((value(m, 'knack311_esb_request_duration_seconds_sum', { status: '200' }) ?? 0) > 0)
    t.equal(value(m, 'knack311_knack_request_duration_seconds_count', { method: 'PUT', status: '200' }), 3, 'three status updates (2 SENT, 1 DO_NOT_SEND)')
    t.ok((value(m, 'knack311_knack_request_duration_seconds_count', { method: 'GET', status: '200' }) ?? 0) >= 1, 'the sweep read the view')
    t.equal(value(m, 'knack311_sweeps_total', { app: APP, trigger: 'http', result: 'ok' }), 1)
    const remaining = value(m, 'knack311_knack_plan_calls_remaining')
    const used = stack.knackSim.stats().requests
    t.ok(remaining !== undefined && remaining <= 25_000 - 4 && remaining >= 25_000 - used, `plan calls remaining ${remaining} after ${used} requests`)
  })

  await t.test('an ESB fault is counted under its status and leaves an undelivered age', async (t) => {
    stack.esbSim.failNext(1, { code: 'soap:Server', string: 'CSR database unavailable' })
    const a = activity()
    stack.seed(APP, [a])
    const r = await sweep(stack)
    t.equal(r.outcomes.failed, 1, 'the retry is an hour away: the delivery waits as failed')
    const m = await scrape(stack)
    t.equal(value(m, 'knack311_esb_request_duration_seconds_count', { status: '500' }), 1, 'the fault is counted as 500')
    t.equal(value(m, 'knack311_deliveries_total', { app: APP, outcome: 'failed' }), 1)
    t.equal(value(m, 'knack311_queue_depth', { status: 'failed' }), 1)
    // Undelivered age grows with time: look again until the clock has moved.
    const age = await waitFor(async () => {
      const v = value(await scrape(stack), 'knack311_oldest_undelivered_age_seconds') ?? 0
      return v > 0 ? v : undefined
    }, 30_000, 'a positive undelivered age')
    t.ok(age > 0, `oldest undelivered age ${age}`)
  })

  await t.test('a forced 429 from Knack is counted and waited out, not failed', async (t) => {
    const before = value(await scrape(stack), 'knack311_knack_rate_limited_total') ?? 0
    stack.knackSim.failNext(1, { method: 'PUT', status: 429 })
    const a = activity()
    stack.seed(APP, [a])
    const hook = await stack.app!.inject({
      method: 'POST', url: `/webhooks/knack/${APP}`,
      headers: { 'x-webhook-token': stack.env.WEBHOOK_SECRET!, 'content-type': 'application/json' },
      payload: { id: a.id }
    })
    t.equal(hook.statusCode, 202, hook.body)
    const d = await waitForStatus(stack, hook.json<{ delivery: number }>().delivery, ['sent', 'failed', 'dead'], 30_000)
    t.equal(d.status, 'sent', 'the 429 was waited out')
    const m = await scrape(stack)
    t.equal((value(m, 'knack311_knack_rate_limited_total', { app_id: 'sandbox-app' }) ?? 0) - before, 1)
    t.ok((value(m, 'knack311_knack_request_duration_seconds_count', { method: 'PUT', status: '429' }) ?? 0) >= 1, 'the 429 has its own duration series')
    t.ok(stack.knackSim.stats().rateLimited >= 1, 'the simulator did answer 429')
  })

  await t.test('the metric families are all declared', async (t) => {
    const res = await stack.app!.inject({ method: 'GET', url: '/metrics' })
    for (const name of [
      'knack311_deliveries_total', 'knack311_queue_depth', 'knack311_oldest_undelivered_age_seconds',
      'knack311_esb_request_duration_seconds', 'knack311_knack_request_duration_seconds',
      'knack311_knack_rate_limited_total', 'knack311_knack_limiter_wait_seconds_total',
      'knack311_knack_plan_calls_remaining', 'knack311_certificate_days_to_expiry', 'knack311_sweeps_total'
    ]) {
      t.match(res.body, new RegExp(`^# TYPE ${name} `, 'm'), name)
    }
  })
})
