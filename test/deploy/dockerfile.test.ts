// No Docker engine here: the Dockerfile and .dockerignore are checked as text for what the
// deployment relies on (multi-stage, LTS slim base, prod deps only, non-root, health check,
// volumes, baked-in config, the serve command), and every file the image copies must exist.
import { existsSync, readFileSync } from 'node:fs'
import t from 'tap'

const ROOT = new URL('../../', import.meta.url).pathname
const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8')
const ignore = readFileSync(`${ROOT}.dockerignore`, 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'))

interface Instruction {
  op: string
  args: string
}
interface Stage {
  from: string
  name: string | undefined
  steps: Instruction[]
}

/** Instructions (continuation lines joined, comments dropped), grouped by stage. */
function stages(text: string): Stage[] {
  const joined = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  const out: Stage[] = []
  for (const line of joined) {
    const [op = '', ...rest] = line.split(/\s+/)
    const args = rest.join(' ')
    if (op.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)
      out.push({ from: m?.[1] ?? args, name: m?.[2], steps: [] })
    } else {
      out.at(-1)?.steps.push({ op: op.toUpperCase(), args })
    }
  }
  return out
}

const all = stages(dockerfile)
const final = all.at(-1)
const stageNamed = (name: string) => all.find((s) => s.name === name)
const runs = (s: Stage | undefined) => (s?.steps ?? []).filter((i) => i.op === 'RUN').map((i) => i.args)
const ops = (s: Stage | undefined, op: string) => (s?.steps ?? []).filter((i) => i.op === op).map((i) => i.args)

t.test('multi-stage on a Node LTS slim image', async (t) => {
  t.ok(all.length >= 3, `${all.length} stages`)
  for (const s of all) t.match(s.from, /^node:(20|22|24)(\.\d+)*-(bookworm-)?slim$/, `${s.name ?? 'stage'} from ${s.from}`)
})

t.test('the build stage installs everything and compiles', async (t) => {
  const build = all.find((s) => runs(s).some((r) => /\bnpm run build\b/.test(r)))
  t.ok(build, 'a stage runs npm run build')
  const r = runs(build)
  const ci = r.findIndex((x) => /\bnpm ci\b/.test(x) && !/--omit=dev/.test(x))
  const compile = r.findIndex((x) => /\bnpm run build\b/.test(x))
  t.ok(ci >= 0 && ci < compile, 'npm ci (with dev dependencies) before npm run build')
  t.ok(ops(build, 'COPY').some((c) => /\bsrc\b/.test(c)), 'src/ is copied into the build stage')
})

t.test('the final stage gets production dependencies only, built natively in their own stage', async (t) => {
  const copies = ops(final, 'COPY')
  const nodeModules = copies.find((c) => /node_modules/.test(c))
  const from = /--from=(\S+)/.exec(nodeModules ?? '')?.[1]
  t.ok(from, `node_modules copied from a stage (${nodeModules})`)
  const deps = stageNamed(from ?? '')
  t.ok(deps, `stage ${from} exists`)
  t.ok(runs(deps).some((r) => /\bnpm ci\b.*--omit=dev/.test(r)), 'npm ci --omit=dev')
  t.ok(runs(deps).some((r) => /apt-get install.*\bpython3\b/.test(r) && /\bmake\b/.test(r) && /\bg\+\+/.test(r)), 'python3, make and g++ for better-sqlite3')
  t.ok(runs(deps).some((r) => /npm rebuild\b.*better-sqlite3/.test(r)) || runs(deps).some((r) => /\bnpm ci\b.*--omit=dev/.test(r) && !/--ignore-scripts/.test(r)), 'better-sqlite3 gets its install script')
  t.notOk(runs(final).some((r) => /apt-get install|npm (ci|install)/.test(r)), 'no compiler and no install in the final stage')
  t.ok(copies.some((c) => /--from=\S+ \/app\/dist/.test(c)), 'the compiled dist/ from the build stage')
})

t.test('runtime contract: user, volumes, config, port, health check, command', async (t) => {
  const user = ops(final, 'USER')
  t.equal(user.length, 1, 'one USER in the final stage')
  t.notMatch(user[0] ?? 'root', /^(root|0)(:|$)/, `runs as ${user[0]}`)
  const steps = final?.steps ?? []
  const userAt = steps.findIndex((i) => i.op === 'USER')
  t.notOk(steps.slice(userAt + 1).some((i) => i.op === 'RUN' && /chown|apt-get/.test(i.args)), 'nothing privileged after USER')

  const volumes = ops(final, 'VOLUME').join(' ')
  t.match(volumes, /\/app\/certs/, 'certs volume')
  t.match(volumes, /\/app\/data/, 'data volume')
  t.ok(ops(final, 'WORKDIR').includes('/app'), 'WORKDIR /app: default cert and data paths resolve into the volumes')
  t.ok(ops(final, 'COPY').some((c) => /^config \.\/config$|^config \/app\/config$/.test(c)), 'config/ baked in')
  t.ok(ops(final, 'EXPOSE').includes('3000'), 'EXPOSE 3000')

  const health = ops(final, 'HEALTHCHECK').join(' ')
  t.match(health, /\/healthz/, 'health check on /healthz')
  t.match(health, /CMD \["node", "-e", ".*fetch\(/, 'node -e fetch')
  t.notMatch(health, /\bcurl\b|\bwget\b/, 'no curl or wget (not in slim images)')

  const cmd = ops(final, 'CMD')
  t.equal(cmd.length, 1)
  const argv = JSON.parse(cmd[0] ?? 'null') as string[]
  t.equal(argv[0], 'node', 'exec-form CMD runs node')
  t.same(argv.slice(-2), ['bin/knack311.js', 'serve'], 'on bin/knack311.js serve')
  t.ok(argv.slice(1, -2).every((a) => a.startsWith('--')), 'with node flags only between (node-flags.test.ts checks which)')
})

t.test('every file the image copies from the context exists and is not ignored', async (t) => {
  const sources = all.flatMap((s) => ops(s, 'COPY').filter((c) => !c.startsWith('--from')).flatMap((c) => c.split(/\s+/).slice(0, -1)))
  t.ok(sources.length >= 8, `${sources.length} sources`)
  for (const src of sources) {
    t.ok(existsSync(`${ROOT}${src}`), `${src} exists`)
    t.notOk(ignore.includes(src) || ignore.includes(`${src}/`), `${src} not in .dockerignore`)
  }
  const needed = ['bin/knack311.js', 'config/apps/data-tracker.json', 'config/apps/signs-markings.json', 'openapi.yaml', 'package-lock.json']
  for (const f of needed) t.ok(existsSync(`${ROOT}${f}`), `${f} exists`)
})

t.test('.dockerignore keeps secrets, local state and build output out of the context', async (t) => {
  for (const entry of ['.git', '.env', 'node_modules', 'dist', 'data', 'certs', '*.pem', '*.key']) t.ok(ignore.includes(entry), `${entry} ignored`)
})
