// Copies what tsc does not emit — the console's templates and stylesheet — from src/ into a build
// directory (`node scripts/copy-assets.mjs [outDir]`, dist/ by default). One list for `npm run
// build`, the Dockerfile's build stage and the benchmark's build (bench/build.ts), which all
// compile src/ and must ship the same files beside it.
/* global process */
import { cpSync, mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const ASSETS = ['console/templates', 'console/console.css']

export function copyAssets(outDir) {
  for (const asset of ASSETS) {
    const to = resolve(outDir, asset)
    mkdirSync(dirname(to), { recursive: true })
    cpSync(resolve(ROOT, 'src', asset), to, { recursive: true })
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) copyAssets(resolve(process.argv[2] ?? resolve(ROOT, 'dist')))
