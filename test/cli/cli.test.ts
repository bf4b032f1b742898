// The command line as an operator runs it: a child process from the project directory, configured
// by the environment only, against the Knack and ESB simulators on loopback.
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { inspectMessage } from '../../src/sandbox/esb-simulator.js'
import { SHIPPED_APPS_DIR } from '../../src/sandbox/stack.js'
import { activity, knackStatus, startStack } from '../helpers/stack.js'

const PROJECT = new URL('../..', import.meta.url).pathname
const app = 'data-tracker'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

t.test('knack311 CLI', async (t) => {
  const stack = await startStack({ buildService: false })
  t.teardown(() => stack.close())
  let dbCount = 0
  const freshDb = () => `sqlite:${join(stack.dir, `cli-${++dbCount}.sqlite`)}`

  function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli.ts', ...args],
        { cwd: PROJECT, env: { ...process.env, ...stack.env, DATABASE_URL: freshDb(), ...env }, timeout: 90_000, maxBuffer: 4 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : null) : 0
          resolve({ code, stdout, stderr })
        }
      )
    })
  }
  const noSecrets = (t: Test, run: Run) => {
    for (const name of ['KNACK_API_KEY', 'ADMIN_TOKEN', 'WEBHOOK_SECRET'] as const) {
      t.notMatch(run.stdout + run.stderr, stack.env[name] ?? '-', `${name} not printed`)
    }
  }

  t.test('sweep <app> delivers every ready record and exits 0', async (t) => {
    const ready = [activity(), activity(), activity()]
    const tweet = activity({ activityName: 'Post Tweet' })
    const done = activity({ status: 'SENT' })
    stack.seed(app, [...ready, tweet, done])
    const run = await cli(['sweep', app])
    t.equal(run.code, 0, `${run.stdout}\n${run.stderr}`)
    t.match(run.stdout, /^sweep data-tracker: found 4, queued 4, duplicates 0, invalid 0$/m)
    t.match(run.stdout, /^sent: 3$/m)
    t.match(run.stdout, /^skipped: 1$/m)
    t.notMatch(run.stdout, /failed|dead|not settled/)
    const sentIds = stack.esbSim.received.map((m) => m.values.id).sort()
    t.same(sentIds, ready.map((r) => r.id).sort(), 'the ESB got each ready record once')
    for (const r of ready) t.equal(knackStatus(stack, app, r.id), 'SENT')
    t.equal(knackStatus(stack, app, tweet.id), 'DO_NOT_SEND')
    noSecrets(t, run)
  })

  t.test('sweep with the ESB down exits 1 once sending pauses, and says what failed and that it paused', async (t) => {
    const ready = [activity(), activity()]
    stack.seed(app, ready)
    const before = stack.esbSim.received.length
    await stack.esbSim.down()
    t.teardown(() => stack.esbSim.up())
    const run = await cli(['sweep', app])
    t.equal(run.code, 1, `${run.stdout}\n${run.stderr}`)
    t.match(run.stdout, /^sweep data-tracker: found 2, queued 2/m)
    t.match(run.stdout, /^failed: 2$/m, 'the ESB being down kills nothing')
    t.notMatch(run.stdout, /^sent:/m)
    t.match(run.stdout, /^sending to the ESB is paused since \S+: connection refused .*stays queued/m)
    for (const r of ready) {
      t.match(run.stdout, new RegExp(`record ${r.id}: failed - ESB: connection refused`), `names record ${r.id} and the reason`)
      t.equal(knackStatus(stack, app, r.id), 'READY_TO_SEND')
    }
    t.equal(stack.esbSim.received.length, before)
  })

  t.test('preview <app> <id> prints the XML, sends nothing', async (t) => {
    const a = activity({ details: 'Flash & go' })
    const tweet = activity({ activityName: 'Post Tweet' })
    stack.seed(app, [a, tweet])
    const before = stack.esbSim.attempts
    const [run, skipped] = await Promise.all([cli(['preview', app, a.id]), cli(['preview', app, tweet.id])])
    t.equal(run.code, 0, run.stderr)
    const parsed = inspectMessage(Buffer.from(run.stdout.trim()), 'text/xml')
    t.ok(parsed.ok, parsed.ok ? 'a well-formed message' : parsed.problem)
    if (parsed.ok) t.match(parsed.values, { id: a.id, emi: a.emiId, sr_number: a.srNumber, activity_type_code: 'DISPTECH', activity_details: 'Flash & go' })
    t.match(run.stdout, /Flash &amp; go/)
    t.equal(stack.esbSim.attempts, before, 'nothing reached the ESB')
    t.equal(knackStatus(stack, app, a.id), 'READY_TO_SEND')

    t.equal(skipped.code, 1, skipped.stderr)
    t.match(skipped.stderr, /not sent: .*Post Tweet/)
    noSecrets(t, run)
  })

  t.test('check <app>: 0 when every field exists, 1 naming a missing one', async (t) => {
    const appsDir = join(stack.dir, 'apps-modified')
    mkdirSync(appsDir, { recursive: true })
    const file = JSON.parse(readFileSync(join(SHIPPED_APPS_DIR, `${app}.json`), 'utf8')) as { fields: Record<string, string> }
    file.fields.emi_id = 'field_99999'
    writeFileSync(join(appsDir, `${app}.json`), JSON.stringify(file, null, 2))
    const [ok, bad] = await Promise.all([cli(['check', app]), cli(['check', app], { APPS_DIR: appsDir })])
    t.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`)
    t.match(ok.stdout, /data-tracker: every mapped field exists in object_75/)
    t.notMatch(ok.stdout, /MISSING/)

    t.equal(bad.code, 1, `${bad.stdout}\n${bad.stderr}`)
    t.match(bad.stdout, /^MISSING emi_id → field_99999$/m)
    t.match(bad.stdout, /data-tracker: 1 mapped field\(s\) missing from object_75/)
    t.match(bad.stdout, /^ok +sr_number → field_1232$/m, 'the others are listed as present')
  })

  t.test('usage errors exit 2 with the usage text', async (t) => {
    const cases: Array<[string[], RegExp]> = [
      [['frobnicate'], /unknown command "frobnicate"/],
      [['sweep'], /missing <app>/],
      [['preview', app], /missing <record-id>/],
      [['check', 'no-such-app'], /no app named "no-such-app" \(known: .*data-tracker/]
    ]
    // Independent runs, a few at a time: shorter, without crowding the machine.
    const runs = await Promise.all(cases.slice(0, 2).map(([args]) => cli(args)))
    const [third, fourth, bare] = await Promise.all([...cases.slice(2).map(([args]) => cli(args)), cli([])])
    runs.push(third!, fourth!)
    cases.forEach(([args, message], i) => {
      const run = runs[i]!
      t.equal(run.code, 2, `knack311 ${args.join(' ')}: ${run.stderr}`)
      t.match(run.stderr, message)
      t.match(run.stderr, /usage:\n\s+knack311 serve/)
    })
    t.equal(bare?.code, 2, 'no command at all')
    t.match(bare?.stdout, /usage:\n\s+knack311 serve/)
  })

  t.test('a configuration error exits 1 with one line naming the variable', async (t) => {
    const run = await cli(['sweep', app], { ESB_TIMEOUT: 'abc' })
    t.equal(run.code, 1, run.stderr)
    const lines = run.stderr.trim().split('\n')
    t.equal(lines.length, 1, `one line: ${run.stderr}`)
    t.match(lines[0], /ESB_TIMEOUT/)
    t.match(lines[0], /abc/)
    t.equal(run.stdout, '')
  })
})
