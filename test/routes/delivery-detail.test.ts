// GET /deliveries/:id holds the message the ESB accepted, byte for byte (its header timestamp is
// the time of sending, so it could not be rebuilt later); list rows do not carry it.
import t from 'tap'
import { activity, adminHeaders, postWebhook, startStack, waitForStatus } from '../helpers/stack.js'

const app = 'data-tracker'

t.test('the XML sent is kept with the delivery, exactly as the ESB received it', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const act = activity({ details: 'Caf\u00e9 <cabinet> & "pole" 12' })
  stack.seed(app, [act])
  const res = await postWebhook(stack, app, { id: act.id })
  t.equal(res.statusCode, 202)
  const id = res.json<{ delivery: number }>().delivery
  await waitForStatus(stack, id, ['sent'])

  const detail = await stack.app!.inject({ method: 'GET', url: `/deliveries/${id}`, headers: adminHeaders(stack) })
  t.equal(detail.statusCode, 200)
  const body = detail.json<{ xml_sent: string | null }>()
  t.equal(stack.esbSim.received.length, 1)
  t.equal(body.xml_sent, stack.esbSim.received[0]?.xml, 'the stored message is the one the ESB received')
  t.match(body.xml_sent, /<activity_details>Cafe &lt;cabinet&gt; &amp; &quot;pole&quot; 12<\/activity_details>/, 'escaped once, ASCII')

  const list = await stack.app!.inject({ method: 'GET', url: `/deliveries?app=${app}`, headers: adminHeaders(stack) })
  t.notOk('xml_sent' in (list.json<Array<Record<string, unknown>>>()[0] ?? {}), 'list rows leave the message out')
})

t.test('a delivery the ESB has not accepted has no XML sent', async (t) => {
  const stack = await startStack({ env: { RETRY_SCHEDULE: '1h' } })
  t.teardown(() => stack.close())
  const act = activity({ activityName: 'Not A Known Activity' })
  stack.seed(app, [act])
  const res = await postWebhook(stack, app, { id: act.id })
  const id = res.json<{ delivery: number }>().delivery
  await waitForStatus(stack, id, ['dead'])
  const detail = await stack.app!.inject({ method: 'GET', url: `/deliveries/${id}`, headers: adminHeaders(stack) })
  t.equal(detail.json<{ xml_sent: string | null }>().xml_sent, null)
})
