// An app file's optional `statuses.failed`: a delivery that dies before the ESB accepted it is
// shown in Knack with that status, so staff see it without opening /deliveries.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { SHIPPED_APPS_DIR } from '../../src/sandbox/stack.js'
import { activity, knackStatus, postWebhook, startStack, waitForStatus } from '../helpers/stack.js'

const app = 'data-tracker'

function appsWithFailedStatus(failed: string | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'knack311-apps-'))
  const file = JSON.parse(readFileSync(join(SHIPPED_APPS_DIR, `${app}.json`), 'utf8')) as { statuses?: Record<string, string> }
  if (failed) file.statuses = { ...file.statuses, failed }
  writeFileSync(join(dir, `${app}.json`), JSON.stringify(file))
  copyFileSync(join(SHIPPED_APPS_DIR, 'signs-markings.json'), join(dir, 'signs-markings.json'))
  return dir
}

t.test('a dead delivery is marked with statuses.failed in Knack when the app names one', async (t) => {
  const stack = await startStack({ env: { APPS_DIR: appsWithFailedStatus('SEND_FAILED') } })
  t.teardown(() => stack.close())
  const bad = activity({ activityName: 'Not A Known Activity' })
  stack.seed(app, [bad])
  const res = await postWebhook(stack, app, { id: bad.id })
  t.equal(res.statusCode, 202)
  const d = await waitForStatus(stack, res.json().delivery as number, ['dead'])
  t.match(d.lastError, /Not A Known Activity/)
  t.equal(knackStatus(stack, app, bad.id), 'SEND_FAILED')
  t.equal(stack.esbSim.received.length, 0)
})

t.test('without statuses.failed the record is left as it was', async (t) => {
  const stack = await startStack({ env: { APPS_DIR: appsWithFailedStatus(undefined) } })
  t.teardown(() => stack.close())
  const bad = activity({ activityName: 'Not A Known Activity' })
  stack.seed(app, [bad])
  const res = await postWebhook(stack, app, { id: bad.id })
  await waitForStatus(stack, res.json().delivery as number, ['dead'])
  t.equal(knackStatus(stack, app, bad.id), 'READY_TO_SEND')
})
