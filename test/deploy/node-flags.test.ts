// The V8 flags that bound the service's footprint live on bin/knack311.js's first line; `npm start`
// and the Dockerfile's CMD start `node bin/knack311.js`, which ignores that line, so they repeat
// the flags. Here: the three agree, and run as an executable the bin really gets them from V8.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { binNodeFlags } from '../../bench/proc.js'

const ROOT = new URL('../../', import.meta.url).pathname
const BIN = `${ROOT}bin/knack311.js`
const MiB = 2 ** 20

const shebang = readFileSync(BIN, 'utf8').split('\n')[0] ?? ''
const flags = binNodeFlags()

t.test('the bin\'s first line sets the semi-space and old-space bounds', async (t) => {
  t.ok(flags.includes('--max-semi-space-size=2'), shebang)
  t.ok(flags.some((f) => /^--max-old-space-size=\d+$/.test(f)), shebang)
})

t.test('the bin\'s first line turns allocation-site pretenuring off', async (t) => {
  // With 2 MiB semi-spaces most objects of a request in flight are still alive at a scavenge, so
  // V8 judged their allocation sites long-lived and allocated them straight into the old space:
  // 8 MB/s of garbage there at 3,000 webhooks/s, a full GC every ~1.2 s, and each one the tail of
  // intake's latency (BENCHMARKS.md, "Changes to src/").
  t.ok(flags.includes('--no-allocation-site-pretenuring'), shebang)
})

t.test('npm start and the Dockerfile\'s CMD pass the same flags', async (t) => {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> }
  t.equal(pkg.scripts.start, `node ${flags.join(' ')} bin/knack311.js serve`)
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(`${ROOT}Dockerfile`, 'utf8'))?.[1]
  t.same(JSON.parse(cmd ?? 'null'), ['node', ...flags, 'bin/knack311.js', 'serve'])
})

t.test('run as an executable, the bin gets the flags from V8 (its execArgv and heap limit)', async (t) => {
  const probe = new URL('../fixtures/heap-limits.mjs', import.meta.url).href
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { env: { ...process.env, NODE_OPTIONS: `--import=${probe}` }, encoding: 'utf8', timeout: 30_000 })
    t.equal(r.status, 0, r.stderr)
    return JSON.parse(r.stdout) as { heapSizeLimit: number; execArgv: string[] }
  }
  const bin = run(BIN, ['--help'])
  const plain = run(process.execPath, [BIN, '--help'])
  const oldSpace = Number(flags.find((f) => f.startsWith('--max-old-space-size='))?.split('=')[1])
  t.same(bin.execArgv, flags, 'node started with the first line\'s flags')
  t.ok(bin.heapSizeLimit < (oldSpace + 64) * MiB, `heap limit ${(bin.heapSizeLimit / MiB).toFixed(0)} MiB for an old space of ${oldSpace} MiB`)
  t.ok(bin.heapSizeLimit < plain.heapSizeLimit / 2, `against ${(plain.heapSizeLimit / MiB).toFixed(0)} MiB without the flags`)
})
