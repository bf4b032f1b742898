// The service as production runs it: compiled by tsc (what `npm ci` / `npm run build` produce),
// started with plain node — no tsx loader thread, whose own heap would inflate RSS by ~50 MB.
// Built into node_modules/.cache (not dist/, which bin/knack311.js would then prefer over the
// sources other work is editing), with openapi.yaml beside it as the routes expect.
import { execFile } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from './proc.js'

export const BUILD_DIR = join(ROOT, 'node_modules', '.cache', 'knack311-bench')

/** Compile src/ and return the path of the compiled cli.js. Type errors are reported, not fatal. */
export async function compileService(): Promise<{ cli: string; typeErrors: string }> {
  rmSync(BUILD_DIR, { recursive: true, force: true })
  mkdirSync(BUILD_DIR, { recursive: true })
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  let typeErrors = ''
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', join(BUILD_DIR, 'dist')], { cwd: ROOT, timeout: 180_000 })
  } catch (err) {
    typeErrors = String((err as { stdout?: string }).stdout ?? err).slice(0, 2000)
  }
  copyFileSync(join(ROOT, 'openapi.yaml'), join(BUILD_DIR, 'openapi.yaml'))
  // What tsc does not copy: the console's stylesheet and templates, read beside the compiled code.
  cpSync(join(ROOT, 'src'), join(BUILD_DIR, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.ts') })
  const cli = join(BUILD_DIR, 'dist', 'cli.js')
  if (!existsSync(cli)) throw new Error(`tsc produced no ${cli}: ${typeErrors}`)
  return { cli, typeErrors }
}
