// One bad record never stops the others: it ends dead with a reason, visible in /deliveries,
// and the rest (a later activity of the same service request included) are sent.
import t from 'tap'
import { activityRecord } from '../../src/sandbox/knack-records.js'
import { activity, adminHeaders, knackRecord, knackStatus, postWebhook, startStack, waitForStatus } from '../helpers/stack.js'
import { getDelivery, postSweep, waitForIdle, waitForKnackStatus } from '../helpers/pipeline.js'

const app = 'data-tracker'

t.test('an unknown activity name: that delivery dead with the name, the others sent', async (t) => {
  const stack = await startStack({ env: { RETRY_SCHEDULE: '50ms,100ms,200ms' } })
  t.teardown(() => stack.close())
  const sr = '26-00001'
  const bad = activity({ srNumber: sr, atdActivityId: 5001, activityName: 'Paint The Moon' })
  const laterSameSr = activity({ srNumber: sr, atdActivityId: 5002 })
  const others = [activity(), activity()]
  stack.seed(app, [bad, laterSameSr, ...others])

  // The bad one first: the later activity of its SR queues behind it.
  const ids: number[] = []
  for (const a of [bad, laterSameSr, ...others]) {
    const res = await postWebhook(stack, app, knackRecord(stack, app, a.id))
    t.equal(res.statusCode, 202, `${a.activityName} queued`)
    ids.push(res.json<{ delivery: number }>().delivery)
  }
  const [badId] = ids as [number]

  const dead = await waitForStatus(stack, badId, ['dead', 'sent'], 30_000)
  t.equal(dead.status, 'dead')
  t.match(dead.lastError, 'Paint The Moon', 'the reason names the activity name')
  await waitForKnackStatus(stack, app, [laterSameSr.id, ...others.map((a) => a.id)], 'SENT')
  await waitForIdle(stack)

  t.equal(knackStatus(stack, app, bad.id), 'READY_TO_SEND', 'the bad record is not marked SENT')
  const sentIds = stack.esbSim.received.map((m) => m.values.id).sort()
  t.same(sentIds, [laterSameSr.id, ...others.map((a) => a.id)].sort(), 'the ESB got every other record, once each')
  t.notOk(sentIds.includes(bad.id), 'and never the bad one')

  const view = await getDelivery(stack, badId)
  t.same(view.history.map((h) => `${h.step}:${h.outcome}`), ['build:unmapped'], 'one build attempt, no ESB attempt')
  const listed = await stack.app!.inject({ method: 'GET', url: `/deliveries?status=dead`, headers: adminHeaders(stack) })
  const deadRows = listed.json<Array<{ id: number; last_error: string }>>()
  t.same(deadRows.map((r) => r.id), [badId], 'visible in /deliveries?status=dead')
  t.match(deadRows[0]?.last_error, 'Paint The Moon')
})

t.test('a record invalid in a sweep ends dead with the reason; the others are sent', async (t) => {
  const stack = await startStack({ env: { RETRY_SCHEDULE: '50ms,100ms,200ms' } })
  t.teardown(() => stack.close())
  const a = stack.appConfig(app)
  const good = [activity(), activity(), activity()]
  stack.seed(app, good)
  // Seeded raw: Knack would never hold this, which is why the service must not choke on it.
  const broken = activityRecord(a, activity())
  broken[a.fields.atd_activity_id] = 'twelve'
  broken[`${a.fields.atd_activity_id}_raw`] = 'twelve'
  stack.knackSim.seed(a.credentials.appId, a.obj, [broken])

  const res = await postSweep(stack, app)
  t.equal(res.statusCode, 200)
  const summary = res.json<{ found: number; queued: number; invalid: number }>()
  t.same({ found: summary.found, queued: summary.queued, invalid: summary.invalid }, { found: 4, queued: 3, invalid: 1 })

  await waitForKnackStatus(stack, app, good.map((g) => g.id), 'SENT')
  await waitForIdle(stack)
  const list = await stack.app!.inject({ method: 'GET', url: `/deliveries?app=${app}`, headers: adminHeaders(stack) })
  const rows = list.json<Array<{ id: number; record_id: string; status: string; last_error: string | null }>>()
  const brokenRow = rows.find((r) => r.record_id === broken.id)
  t.equal(brokenRow?.status, 'dead')
  t.match(brokenRow?.last_error, /record invalid: .*atd_activity_id.*whole number/, 'the reason names the field')
  t.same(rows.filter((r) => r.record_id !== broken.id).map((r) => r.status), ['sent', 'sent', 'sent'])
  t.same(stack.esbSim.received.map((m) => m.values.id).sort(), good.map((g) => g.id).sort(), 'the ESB got the good ones, once each')
  t.equal(knackStatus(stack, app, broken.id), 'READY_TO_SEND')
})
