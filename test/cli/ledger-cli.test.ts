// knack311 replay | prune | export as an operator (or cron) runs them: child processes from the
// project directory, configured by the environment only, against the simulators on loopback.
// Off a terminal (as here) they print summary lines, never a progress bar.
import { execFile } from 'node:child_process'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import t from 'tap'
import { openLedger } from '../../src/ledger/open.js'
import { activity, startStack } from '../helpers/stack.js'

const PROJECT = new URL('../..', import.meta.url).pathname
const app = 'data-tracker'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

t.test('knack311 replay, export, prune', async (t) => {
  const stack = await startStack({ buildService: false })
  t.teardown(() => stack.close())
  const databaseUrl = `sqlite:${join(stack.dir, 'ledger-cli.sqlite')}`
  const cli = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli.ts', ...args],
        { cwd: PROJECT, env: { ...process.env, ...stack.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', ...env }, timeout: 90_000, maxBuffer: 8 * 1024 * 1024 },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr })
      )
    })
  const operator = `cli:${userInfo().username}`

  const acts = [1, 2, 3, 4, 5, 6].map((k) => activity({ srNumber: `SR-cli-${k % 2}`, atdActivityId: 90_000 + k }))
  const mystery = activity({ activityName: 'Mystery Activity' })
  stack.seed(app, [...acts, mystery])
  const sweep = await cli(['sweep', app])
  t.equal(sweep.code, 1, 'the sweep exits 1: one record went dead')
  t.match(sweep.stdout, /^sweep data-tracker: found 7, queued 7/m)
  t.match(sweep.stdout, /^sent: 6$/m)
  t.match(sweep.stdout, /^dead: 1$/m)
  t.match(sweep.stderr, /^sweep data-tracker: records read: 7$/m, 'a plain progress line per phase on stderr')
  t.match(sweep.stderr, /^delivering: 7 of 7$/m)
  t.notOk(sweep.stderr.includes('\u001b[') || /[█░]/.test(sweep.stderr), 'no bar or terminal codes off a terminal')
  t.equal(stack.esbSim.received.length, 6)

  stack.seed(app, acts.map((a) => ({ ...a, status: 'SENT', details: `fixed ${a.atdActivityId}` })))

  t.test('replay --dry-run counts, sends nothing', async (t) => {
    const run = await cli(['replay', app, '--since', '1h', '--dry-run'])
    t.equal(run.code, 0, run.stderr)
    t.match(run.stdout, /^replay data-tracker \[\S+, \S+\): 6 activities would be sent again \(dry run\)$/m)
    t.equal(stack.esbSim.received.length, 6)
  })

  t.test('replay sends each once with what Knack holds now; asked again, nothing', async (t) => {
    const run = await cli(['replay', app, '--since', '1h', '--until', new Date(Date.now() + 60_000).toISOString()])
    t.equal(run.code, 0, `${run.stdout}\n${run.stderr}`)
    t.match(run.stdout, /matched 6, queued 6, duplicates 0, not found 0, invalid 0$/m)
    t.match(run.stdout, /^sent: 6$/m)
    t.match(run.stderr, /^replay data-tracker: read from Knack: 6 of 6$/m)
    t.match(run.stderr, /^delivering: 6 of 6$/m)
    const replayed = stack.esbSim.received.slice(6)
    t.same(replayed.map((m) => m.values.activity_details).sort(), acts.map((a) => `fixed ${a.atdActivityId}`).sort())
    const again = await cli(['replay', app, '--since', '1h', '--sr', 'SR-cli-1'])
    t.equal(again.code, 0, again.stderr)
    t.match(again.stdout, /^replay data-tracker SR SR-cli-1 \[.*\): matched 3, queued 0, duplicates 3/m)
    t.equal(stack.esbSim.received.length, 12)
  })

  t.test('export streams the CSV to stdout with the same filters as the route', async (t) => {
    const run = await cli(['export', '--app', app, '--since', '2h'])
    t.equal(run.code, 0, run.stderr)
    const rows = parse(run.stdout, { columns: true }) as Array<Record<string, string>>
    t.equal(rows.length, 13, '6 sent, 6 replays, 1 dead')
    t.equal(rows.filter((r) => r.source === 'replay').length, 6)
    t.match(run.stderr, /^export: 13 of 13$/m)
    const dead = await cli(['export', '--status', 'dead', '--q', 'mystery'])
    t.equal((parse(dead.stdout, { columns: true }) as unknown[]).length, 1)
    const bad = await cli(['export', '--since', 'yesterday', '--limit', 'lots'])
    t.equal(bad.code, 2, 'a bad filter exits 2')
    t.match(bad.stderr, /since: .*not a time/)
    t.match(bad.stderr, /limit: must be a whole number/)
    t.equal(bad.stdout, '')
  })

  t.test('prune: dry run, then only sent/skipped go; RETENTION off needs --older-than', async (t) => {
    const dry = await cli(['prune', '--older-than', '1ms', '--dry-run'])
    t.equal(dry.code, 0, dry.stderr)
    t.match(dry.stdout, /^prune: 12 sent\/skipped deliveries created before \S+ would be deleted \(dry run\)$/m)
    const off = await cli(['prune'], { RETENTION: 'off' })
    t.equal(off.code, 2, off.stderr)
    t.match(off.stderr, /RETENTION is off/)
    const run = await cli(['prune', '--older-than', '1ms', '--vacuum'])
    t.equal(run.code, 0, run.stderr)
    t.match(run.stdout, /^vacuum: the ledger file already gives pruned space back/m, 'a file this release created has incremental auto-vacuum')
    t.match(run.stdout, /^prune: deleted 12 sent\/skipped deliveries created before \S+ and their \d+ attempts; \d+ pages given back to the disk$/m)
    t.match(run.stderr, /^prune: 12 of 12$/m)
    const left = parse((await cli(['export'])).stdout, { columns: true }) as Array<Record<string, string>>
    t.same(left.map((r) => r.status), ['dead'], 'the dead delivery stays')
  })

  t.test('the actions log names the command line and the OS user', async (t) => {
    const ledger = await openLedger(databaseUrl)
    t.teardown(() => ledger.close())
    const actions = await ledger.listActions({ limit: 50 })
    t.same(
      actions.map((a) => a.kind).reverse(),
      ['sweep', 'replay', 'replay', 'prune'],
      'sweep, the two replays, the prune (dry runs and refusals before any work are not actions)'
    )
    t.ok(actions.every((a) => a.operator === operator), `all under ${operator}`)
    t.match(actions.find((a) => a.kind === 'prune')?.result, { deleted: 12, complete: true })
  })
})
