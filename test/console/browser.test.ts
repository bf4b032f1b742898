// The console in a real headless Chromium (Debian's chromium, driven by playwright-core), against
// the real service listening on 127.0.0.1 and the Knack and ESB simulators. It does what the staff
// do: log in, see a dead delivery on the overview, filter to it, open it and read its reason,
// fix the cause, press retry and see it sent; retry the dead ones in bulk and replay a window,
// each with its count and confirmation; log out and be refused. Each step saves a screenshot of
// the page it checked in .tap/screenshots/. Without a browser the file reports itself skipped.
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { noBrowserReason, openBrowser } from '../helpers/browser.js'
import { activity, knackRecord, knackStatus, postWebhook, startStack, waitForStatus } from '../helpers/stack.js'

const dt = 'data-tracker'
const reason = noBrowserReason()

if (reason) {
  t.plan(0, `console browser tests skipped: ${reason}`)
} else {
  t.test('the console in a browser: a dead delivery to sent, bulk retry, replay, log out', async (t) => {
    const stack = await startStack({ env: { RETRY_SCHEDULE: '50ms', OPERATOR_TOKENS: 'ana:ana-browser-token-0042' } })
    t.teardown(() => stack.close())
    const app = stack.app!
    await app.listen({ host: '127.0.0.1', port: 0 })
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

    const fine = [activity(), activity()]
    const stuck = activity({ srNumber: '26-00417731' })
    // Three more the ESB refuses (SR 26-00418115), for the bulk retry.
    const batch = [1, 2, 3].map((k) => activity({ srNumber: '26-00418115', atdActivityId: 7000 + k }))
    stack.seed(dt, [...fine, stuck, ...batch])
    // The ESB refuses this record (a SOAP fault about it) until the cause is fixed; the others go.
    stack.esbSim.faultWhen((v) => v.id === stuck.id, { code: 'env:Client', string: 'SR 26-00417731 is closed in CSR' })
    const ids: number[] = []
    for (const a of [...fine, stuck]) ids.push((await postWebhook(stack, dt, knackRecord(stack, dt, a.id))).json<{ delivery: number }>().delivery)
    const stuckId = ids[2] ?? 0
    await waitForStatus(stack, stuckId, ['dead'])
    for (const a of fine) await waitForStatus(stack, ids[fine.indexOf(a)] ?? 0, ['sent'])

    const { page, screenshot } = await openBrowser(t)

    await t.test('log in, with the keyboard alone', async (t) => {
      await page.goto(`${base}/console`)
      t.equal(new URL(page.url()).pathname, '/console/login', 'sent to the login page')
      t.equal(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id), 'token', 'the token field has the focus')
      await page.keyboard.type('ana-browser-token-0042')
      await page.keyboard.press('Enter')
      await page.waitForURL(`${base}/console`)
      t.equal(await page.locator('.who').innerText(), 'Logged in as ana')
      t.equal(await page.getByLabel('Token').count(), 0, 'the form is gone')
      await page.keyboard.press('Tab')
      t.equal(await page.locator(':focus').innerText(), 'Skip to content', 'the first Tab reaches the skip link')
      await page.keyboard.press('Enter')
      t.equal(await page.locator(':focus').getAttribute('id'), 'main', 'which moves the focus to the page itself')
    })

    await t.test('the overview shows the dead delivery', async (t) => {
      const card = page.locator('#app-data-tracker')
      t.equal(await card.getByRole('heading', { level: 2 }).innerText(), 'data-tracker')
      t.equal(await card.locator('.attention').innerText(), '1 dead delivery needs a person')
      const deadRow = card.locator('tr', { has: page.locator('.status-dead') })
      t.equal(await deadRow.locator('td').innerText(), '1')
      t.equal(await card.locator('tr', { has: page.locator('.status-sent') }).locator('td').innerText(), '2')
      await screenshot('console-overview-dead')
    })

    await t.test('filter to it', async (t) => {
      await page.getByRole('link', { name: 'Deliveries', exact: true }).click()
      await page.getByLabel('App').selectOption(dt)
      await page.getByLabel('Status').selectOption('dead')
      await page.getByRole('button', { name: 'Show' }).click()
      await page.waitForURL(/status=dead/)
      const rows = page.locator('table.list tbody tr')
      t.equal(await rows.count(), 1, 'one row')
      t.equal(await rows.locator('.status').innerText(), 'dead', 'shown as a word')
      t.equal(await rows.locator('td').nth(3).innerText(), '26-00417731', 'its service request')
      // Runs in the page: the browser's own getComputedStyle (this project's types have no DOM).
      const colour = await rows.locator('.status').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor)
      t.not(colour, 'rgba(0, 0, 0, 0)', `and a colour (${colour})`)
      await screenshot('console-deliveries-dead')
    })

    await t.test('open it and read its reason', async (t) => {
      await page.getByRole('link', { name: `#${stuckId}` }).click()
      await page.waitForURL(`${base}/console/deliveries/${stuckId}`)
      t.equal((await page.getByRole('heading', { level: 1 }).textContent())?.replace(/\s+/g, ' ').trim(), `Delivery #${stuckId} dead`)
      t.match(await page.locator('#reason').innerText(), /gave up after 2 attempts: ESB: .*env:Client: SR 26-00417731 is closed in CSR/)
      t.equal(await page.locator('table.list tbody tr').count(), 2, 'two attempts, each refused by the ESB')
      t.equal(stack.esbSim.received.filter((m) => m.values.id === stuck.id).length, 0, 'the ESB does not have it')
      await screenshot('console-delivery-dead')
    })

    await t.test('fix the cause, press retry: the page shows it sent, the ESB has the message', async (t) => {
      stack.esbSim.faultWhen(undefined)
      await page.getByRole('button', { name: 'Retry' }).click()
      await page.waitForURL(/notice=retried/)
      t.equal(await page.locator('h1 .status').innerText(), 'sent')
      t.match(await page.locator('.notice').innerText(), /Queued again/)
      t.equal(knackStatus(stack, dt, stuck.id), 'SENT', 'Knack marked')
      const messages = stack.esbSim.received.filter((m) => m.values.id === stuck.id)
      t.equal(messages.length, 1, 'the ESB has the message now, once')
      t.equal(messages[0]?.values.sr_number, '26-00417731')
      await screenshot('console-delivery-sent')
    })

    await t.test('bulk retry of the dead deliveries: the count, then the confirmation', async (t) => {
      stack.esbSim.faultWhen((v) => v.sr_number === '26-00418115', { code: 'env:Client', string: 'SR 26-00418115 is locked' })
      const batchIds: number[] = []
      for (const a of batch) batchIds.push((await postWebhook(stack, dt, knackRecord(stack, dt, a.id))).json<{ delivery: number }>().delivery)
      for (const id of batchIds) await waitForStatus(stack, id, ['dead'])
      stack.esbSim.faultWhen(undefined)

      await page.getByRole('link', { name: 'Retry in bulk' }).click()
      await page.getByLabel('Status').selectOption('dead')
      await page.getByRole('button', { name: 'Count' }).click()
      t.equal(await page.locator('#bulk-count').innerText(), '3 failed or dead deliveries match.', 'the count first')
      t.same(batchIds.map(() => 'dead'), await Promise.all(batchIds.map(async (id) => (await stack.deps!.ledger.get(id))?.status)), 'counting changed nothing')
      await screenshot('console-bulk-retry-count')
      await page.getByRole('button', { name: 'Retry these 3' }).click()
      t.equal(await page.locator('#bulk-result').innerText(), 'Queued 3 of 3 matching deliveries again.')
      await screenshot('console-bulk-retry-done')
      for (const id of batchIds) t.equal((await waitForStatus(stack, id, ['sent'])).status, 'sent', `delivery ${id} sent`)
      const order = stack.esbSim.received.filter((m) => m.values.sr_number === '26-00418115').map((m) => m.values.id)
      t.same(order, batch.map((a) => a.id), 'in their SR order, once each')
    })

    await t.test('replay a window: its count, then the confirmation', async (t) => {
      const before = stack.esbSim.received.length
      await page.getByRole('link', { name: 'Replay' }).click()
      await page.getByLabel('App').selectOption(dt)
      await page.getByLabel('Accepted since').fill('1h')
      await page.getByLabel('Service request (optional)').fill('26-00418115')
      await page.getByRole('button', { name: 'Count' }).click()
      t.match(await page.locator('#replay-count').innerText(), /^3 activities of data-tracker the ESB accepted from .* for SR 26-00418115 would be read from Knack again and sent again\.$/)
      t.equal(stack.esbSim.received.length, before, 'counting sent nothing')
      await screenshot('console-replay-count')
      await page.getByRole('button', { name: 'Replay these 3' }).click()
      t.equal(await page.locator('#replay-result').innerText(), 'Queued 3 of 3 activities to be sent again.')
      const again = await stack.esbSim.waitForReceived(before + 3, 15_000)
      t.same(again.slice(before).map((m) => m.values.id), batch.map((a) => a.id), 'sent again, in their original order')
      await screenshot('console-replay-done')
      await page.getByRole('link', { name: 'Actions' }).click()
      const latest = page.locator('table.list tbody tr').first()
      t.match((await latest.textContent())?.replace(/\s+/g, ' '), /ana replay .*matched: 3 · queued: 3/, 'the actions log has it under ana')
      await screenshot('console-actions')
    })

    await t.test('log out and be refused', async (t) => {
      await page.getByRole('button', { name: 'Log out' }).click()
      await page.waitForURL(/\/console\/login\?notice=logged_out/)
      t.match(await page.locator('.notice').innerText(), /You are logged out/)
      await page.goto(`${base}/console/deliveries/${stuckId}`)
      t.equal(new URL(page.url()).pathname, '/console/login', 'the delivery page sends back to the login page')
      t.equal(await page.locator('.site-header nav').count(), 0, 'no console navigation')
      const cookies = await page.context().cookies(base)
      t.same(cookies.filter((c) => c.name === 'knack311_session'), [], 'no session cookie left')
      await screenshot('console-logged-out')
    })
  })
}
