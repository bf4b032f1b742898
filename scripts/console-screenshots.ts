// Makes the README's console screenshots (docs/console-overview.png, docs/console-delivery.png)
// from the sandbox's day of activities: the real service and simulators on 127.0.0.1, the real
// console in Debian's headless Chromium. Run: node --import tsx scripts/console-screenshots.ts
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { chromium } from 'playwright-core'
import { sandboxDay } from '../src/sandbox/seed.js'
import { startStack } from '../src/sandbox/stack.js'

const DOCS = fileURLToPath(new URL('../docs/', import.meta.url))
const CHROMIUM = process.env.KNACK311_TEST_CHROMIUM ?? '/usr/bin/chromium'

// Dead deliveries gathered for a second, so the overview's alerts panel has the alert to show.
const stack = await startStack({ logger: pino({ level: 'warn' }), env: { RETRY_SCHEDULE: '50ms', ALERT_GROUP_WINDOW: '1s' } })
try {
  const day = sandboxDay()
  for (const [app, activities] of Object.entries(day)) stack.seed(app, activities)
  // One more way to fail, for the delivery page: Knack refuses to mark a record SENT.
  const refused = day['data-tracker']?.[7]
  if (refused) stack.knackSim.failNext(1, { method: 'PUT', pathIncludes: refused.id, status: 400, body: { errors: [{ message: 'field_2449: "SENT" is not one of the choices' }] } })
  const service = stack.app
  if (!service) throw new Error('no service')
  for (const name of Object.keys(day)) {
    const app = stack.appConfig(name)
    const sweep = await service.service.sweeper.sweep(app, 'schedule')
    await service.service.sweeper.outcomes(sweep.deliveryIds, 30_000)
  }
  const deadline = Date.now() + 30_000
  while (!(await stack.deps?.ledger.alerts.recent(1))?.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  await service.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`
  const dead = (await stack.deps?.ledger.list({ status: 'dead', limit: 10 })) ?? []
  const shown = dead.find((d) => d.recordId === refused?.id) ?? dead[0]

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] })
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 1120 } })
    await page.goto(`${base}/console/login`)
    await page.getByLabel('Token').fill(stack.env.ADMIN_TOKEN ?? '')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.waitForURL(`${base}/console`)
    await page.screenshot({ path: `${DOCS}console-overview.png`, fullPage: true })
    if (shown) {
      await page.goto(`${base}/console/deliveries/${shown.id}`)
      await page.setViewportSize({ width: 1100, height: 1240 })
      await page.screenshot({ path: `${DOCS}console-delivery.png` })
    }
    process.stdout.write(`wrote ${DOCS}console-overview.png and console-delivery.png\n`)
  } finally {
    await browser.close()
  }
} finally {
  await stack.close()
}
