// Builds tap's Test class for the plugin set in package.json ("tap".plugin) from the packages
// already installed, with no registry. Why: tap ships a Test class built for its default plugins;
// when the configured set differs (ours swaps @tapjs/typescript for @tapjs/tsx), `tap` rebuilds it
// at start-up through `tap plugin add`, which first asks the npm registry for each plugin's
// version — so on a machine with no network every `npm test` died before any test ran. Run from
// `postinstall` and `pretest`; once the built signature matches the configured one, tap skips its
// own rebuild (and this script does nothing).
/* global process, console */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, resolve } from 'node:path'

const require = createRequire(import.meta.url)
let testPkg
try {
  testPkg = dirname(require.resolve('@tapjs/test/package.json'))
} catch {
  // A production install (--omit=dev) has no tap: nothing to build.
  process.exit(0)
}
const { TapConfig } = await import('@tapjs/config')
const builtFile = resolve(testPkg, 'test-built/dist/esm/index.js')
const generator = resolve(testPkg, 'dist/esm/build.mjs')

/** The plugin signature the installed Test class was built with ('' when it cannot be read). */
function builtSignature() {
  try {
    const text = readFileSync(builtFile, 'utf8')
    return /^export const signature = `([^`]*)`;/m.exec(text)?.[1]?.trim() ?? ''
  } catch {
    return ''
  }
}

const config = await TapConfig.load()
const wanted = config.pluginSignature
if (builtSignature() === wanted) process.exit(0)

console.error(`tap-build: building tap's Test class for ${config.pluginList.length} plugins (no registry needed)`)
const built = spawnSync(process.execPath, [generator, ...config.pluginList], { cwd: config.projectRoot, stdio: 'inherit' })
if (built.status !== 0) {
  console.error(`tap-build: generate-tap-test-class failed (exit ${built.status ?? built.signal})`)
  process.exit(1)
}
if (builtSignature() !== wanted) {
  console.error('tap-build: the built signature still differs from the configured plugin set')
  process.exit(1)
}
