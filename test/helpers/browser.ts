// A real headless Chromium for the console's browser tests: Debian's `chromium` package driven by
// playwright-core (which never downloads a browser). Each launch gets a new, empty profile and
// is closed with the test. Where no browser can be had, the reason is returned so the test can
// report itself skipped, never passed.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM_PATH = process.env.KNACK311_TEST_CHROMIUM ?? '/usr/bin/chromium'

/** Off everything that would reach beyond loopback or leave state behind. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]

/** Screenshots of the pages the tests checked: git-ignored, kept for people to look at. */
export const SCREENSHOT_DIR = new URL('../../.tap/screenshots/', import.meta.url).pathname

/** Why the browser tests cannot run here, or undefined when they can. */
export function noBrowserReason(): string | undefined {
  if (!existsSync(CHROMIUM_PATH)) return `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set KNACK311_TEST_CHROMIUM)`
  return undefined
}

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface BrowserSession {
  context: BrowserContext
  page: Page
  /** Save the page as .tap/screenshots/<name>.png; returns the path. */
  screenshot(name: string): Promise<string>
}

export async function openBrowser(t: Teardown, opts: { width?: number; height?: number } = {}): Promise<BrowserSession> {
  const profile = mkdtempSync(join(tmpdir(), 'knack311-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ARGS,
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 },
    // Pages come from 127.0.0.1 only; nothing may try the network.
    offline: false,
    timeout: 60_000
  })
  t.teardown(async () => {
    await context.close()
    rmSync(profile, { recursive: true, force: true })
  })
  // Any request off loopback is a bug in the page (or the test): refuse it.
  await context.route(/^(?!https?:\/\/127\.0\.0\.1[:/]).*/, (route) => route.abort('blockedbyclient'))
  const page = context.pages()[0] ?? (await context.newPage())
  page.setDefaultTimeout(20_000)
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  return {
    context,
    page,
    async screenshot(name) {
      const path = join(SCREENSHOT_DIR, `${name}.png`)
      await page.screenshot({ path, fullPage: true })
      return path
    }
  }
}
