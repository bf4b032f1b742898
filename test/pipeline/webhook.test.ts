import t from 'tap'
import { startStack } from '../helpers/stack.js'

const app = 'data-tracker'

t.test('a webhook record reaches the ESB with the right XML and ends SENT in Knack', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const a = stack.appConfig(app)
  stack.seed(app, [
    {
      id: '5d79a1b2c3d4e5f600000001', atdActivityId: 101, emiId: 'EMI-1', srNumber: '19-00001', status: 'READY_TO_SEND',
      activityName: ' Close  Issue (Duplicate) ', details: 'café a<b\nline 2 😀', issueStatus: 'closed_duplicate',
      when: { date: '2019-09-11', time: '16:14' }
    }
  ])
  const record = stack.knackSim.getRecord(a.credentials.appId, a.obj, '5d79a1b2c3d4e5f600000001')
  const res = await stack.app!.inject({
    method: 'POST', url: `/webhooks/knack/${app}`,
    headers: { 'x-webhook-token': stack.env.WEBHOOK_SECRET!, 'content-type': 'application/json' },
    payload: record
  })
  t.equal(res.statusCode, 202, res.body)
  const delivery = res.json().delivery as number
  const [msg] = await stack.esbSim.waitForReceived(1, 5000)
  t.equal(msg?.values.sr_number, '19-00001')
  t.equal(msg?.values.activity_type_code, 'CLOIS001')
  t.equal(msg?.values.issue_status_code, 'closed_resolved')
  t.equal(msg?.values.activity_details, 'cafe a<b\nline 2', 'transliterated, emoji removed (the simulator trims)')
  t.equal(msg?.values.activity_date, '2019-09-11T16:14:00-05:00')
  t.match(msg?.xml, /a&lt;b/)
  t.notMatch(msg?.xml, /&amp;lt;/)

  // Knack ends SENT and the ledger says sent.
  for (let i = 0; i < 100; i++) {
    const d = await stack.deps!.ledger.get(delivery)
    if (d?.status === 'sent') break
    await new Promise((r) => setTimeout(r, 20))
  }
  const d = await stack.deps!.ledger.get(delivery)
  t.equal(d?.status, 'sent')
  t.equal(stack.knackSim.getRecord(a.credentials.appId, a.obj, '5d79a1b2c3d4e5f600000001')?.[a.fields.esb_status], 'SENT')

  const again = await stack.app!.inject({
    method: 'POST', url: `/webhooks/knack/${app}`,
    headers: { 'x-webhook-token': stack.env.WEBHOOK_SECRET! }, payload: record
  })
  t.same(again.json(), { status: 'duplicate', delivery })
})
