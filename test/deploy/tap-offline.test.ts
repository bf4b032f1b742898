// The suite must start with no registry reachable: tap rebuilds its Test class through `tap plugin
// add` (which asks the registry for each plugin's version) whenever the class was built for other
// plugins than package.json's "tap".plugin lists. scripts/tap-build.mjs builds it from the
// installed packages at install and before the tests; here: it is wired in, and the class tap
// loads was built for exactly the configured plugins (so tap would not look anything up).
import { TapConfig } from '@tapjs/config'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, resolve } from 'node:path'
import t from 'tap'

const ROOT = new URL('../../', import.meta.url).pathname
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> }

function builtSignature(): string {
  const testPkg = dirname(createRequire(`${ROOT}package.json`).resolve('@tapjs/test/package.json'))
  const text = readFileSync(resolve(testPkg, 'test-built/dist/esm/index.js'), 'utf8')
  return /^export const signature = `([^`]*)`;/m.exec(text)?.[1]?.trim() ?? ''
}

t.test('postinstall and pretest build tap\'s Test class locally', async (t) => {
  t.match(pkg.scripts.postinstall ?? '', /node scripts\/tap-build\.mjs/)
  t.match(pkg.scripts.pretest ?? '', /node scripts\/tap-build\.mjs/)
})

t.test('the Test class tap loads was built for the configured plugins (tap skips its registry lookup)', async (t) => {
  const r = spawnSync(process.execPath, [`${ROOT}scripts/tap-build.mjs`], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 })
  t.equal(r.status, 0, r.stderr)
  const config = await TapConfig.load()
  t.ok(config.pluginList.includes('@tapjs/tsx') && !config.pluginList.includes('@tapjs/typescript'), 'our plugin set differs from tap\'s default one')
  t.equal(builtSignature(), config.pluginSignature)
})
