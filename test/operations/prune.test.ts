// Retention and prune on a real SQLite ledger: the daily prune at start-up takes only old
// sent/skipped rows and shows in the metrics and the actions log; a shutdown stops it between
// batches; and under a steady load with a short RETENTION the file stops growing.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import t from 'tap'
import { openLedger } from '../../src/ledger/open.js'
import type { Delivery, DeliveryStatus, Ledger } from '../../src/ledger/types.js'
import { createActionLog, SYSTEM_OPERATOR } from '../../src/operations/actions.js'
import { createPruner } from '../../src/operations/prune.js'
import { createRetention } from '../../src/operations/retention.js'
import { adminHeaders, startStack, waitFor } from '../helpers/stack.js'

const DAY = 86_400_000
const quiet = pino({ level: 'silent' })
const dir = mkdtempSync(join(tmpdir(), 'knack311-prune-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
/** A delivery taken through claim and finish into `status`, created at `at`, with one attempt row. */
async function delivery(ledger: Ledger, status: DeliveryStatus, at: Date, pad = ''): Promise<Delivery> {
  const id = `rec-${++n}`
  const { delivery: d } = await ledger.enqueue({ app: 'data-tracker', recordId: id, srNumber: `SR-${n}`, atdActivityId: n, contentHash: 'h', source: 'sweep', record: { id, pad } }, 'once', at)
  await ledger.claim('w', 10_000, 60_000, at)
  const attempt = { n: 1, step: 'esb' as const, outcome: status, detail: null, startedAt: at, finishedAt: at }
  const pending = status === 'failed'
  await ledger.finish(d.id, { owner: 'w', attempt, status, attempts: 1, lastError: status === 'dead' || pending ? 'why' : null, nextAttemptAt: pending ? new Date(at.getTime() + 365 * DAY) : undefined, now: at })
  return d
}

t.test('the service prunes at start-up: old sent and skipped rows go, with their attempts; nothing else', async (t) => {
  const url = `sqlite:${join(dir, 'startup.sqlite')}`
  const seed = await openLedger(url)
  const old = new Date(Date.now() - 100 * DAY)
  const young = new Date(Date.now() - 2 * DAY)
  const gone = [await delivery(seed, 'sent', old), await delivery(seed, 'skipped', old), await delivery(seed, 'sent', old)]
  const kept = [await delivery(seed, 'dead', old), await delivery(seed, 'failed', old), await delivery(seed, 'sent', young), await delivery(seed, 'skipped', young)]
  const queued = (await seed.enqueue({ app: 'data-tracker', recordId: 'q', srNumber: 'SR-q', atdActivityId: 1, contentHash: 'h', source: 'sweep', record: { id: 'q' } }, 'once', old)).delivery
  await seed.addAction({ at: old, operator: 'ana', kind: 'retry', request: { delivery: 1 }, result: {} })
  await seed.close()

  // No worker: the old queued row must be seen to survive, not be delivered meanwhile.
  const stack = await startStack({ env: { DATABASE_URL: url, RETENTION: '30d' }, startWorker: false })
  t.teardown(() => stack.close())
  const ledger = stack.deps!.ledger
  const last = await waitFor(() => ledger.lastPrune().then((p) => p ?? undefined), 30_000, 'the start-up prune')
  t.match(last, { deliveries: 3, attempts: 3, operator: SYSTEM_OPERATOR, error: null })
  t.ok(Math.abs(last.cutoff.getTime() - (Date.now() - 30 * DAY)) < 60_000, 'cutoff: 30 days ago')
  for (const d of gone) t.equal(await ledger.get(d.id), undefined, `old ${d.id} gone`)
  for (const d of [...kept, queued]) t.ok(await ledger.get(d.id), `delivery ${d.id} kept`)
  t.same((await ledger.attempts(kept[0]!.id)).length, 1, "a kept row's attempts are kept")

  const actions = (await stack.app!.inject({ method: 'GET', url: '/actions', headers: adminHeaders(stack) })).json<Array<{ kind: string; operator: string; result: Record<string, unknown> }>>()
  t.match(actions[0], { kind: 'prune', operator: SYSTEM_OPERATOR, result: { deleted: 3, attempts: 3, complete: true } })
  t.match(actions[1], { kind: 'retry', operator: 'ana' }, 'older actions are kept beyond RETENTION')

  const metrics = (await stack.app!.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /^knack311_prune_last_deleted\{table="deliveries"\} 3$/m)
  t.match(metrics, /^knack311_prune_last_deleted\{table="attempts"\} 3$/m)
  const at = Number(/^knack311_prune_last_run_timestamp_seconds (\S+)$/m.exec(metrics)?.[1])
  t.ok(Math.abs(at * 1000 - last.finishedAt.getTime()) < 1000, 'the last prune time')
  t.match(metrics, /^knack311_queue_depth\{status="dead"\} 1$/m, 'rows by status, as before')
})

t.test('RETENTION=off: nothing is pruned', async (t) => {
  const url = `sqlite:${join(dir, 'off.sqlite')}`
  const seed = await openLedger(url)
  const d = await delivery(seed, 'sent', new Date(Date.now() - 1000 * DAY))
  await seed.close()
  const stack = await startStack({ env: { DATABASE_URL: url, RETENTION: 'off' } })
  t.teardown(() => stack.close())
  // The start hook has run (ready resolved); with RETENTION off it scheduled nothing.
  t.equal(await stack.deps!.ledger.lastPrune(), null)
  t.ok(await stack.deps!.ledger.get(d.id), 'a 1000-day-old sent row is kept')
})

t.test('a shutdown stops a long prune between two batches; the next run finishes it', async (t) => {
  const ledger = await openLedger(`sqlite:${join(dir, 'stop.sqlite')}`)
  t.teardown(() => ledger.close())
  const old = new Date(Date.now() - 100 * DAY)
  for (let i = 0; i < 4; i++) await Promise.all(Array.from({ length: 500 }, () => delivery(ledger, 'sent', old)))
  const clock = () => new Date()
  const pruner = createPruner({ ledger, actions: createActionLog({ ledger, clock, logger: quiet }), clock, logger: quiet, retentionMs: 30 * DAY, tuning: { batch: 20, pauseMs: 1 } })
  const retention = createRetention({ pruner, retentionMs: 30 * DAY, logger: quiet })
  retention.start()
  await waitFor(async () => ((await ledger.count({ status: 'sent' })) < 2000 ? true : undefined), 30_000, 'the first batches')
  await retention.stop()
  const stopped = await ledger.lastPrune()
  t.ok(stopped && stopped.deliveries > 0 && stopped.deliveries < 2000, `stopped part way (${stopped?.deliveries} of 2000)`)
  const left = await ledger.count({ status: 'sent' })
  t.equal(left, 2000 - (stopped?.deliveries ?? 0), 'the state says what was deleted')
  const [action] = await ledger.listActions({ limit: 1 })
  t.match(action?.result, { complete: false }, 'the action says it was not complete')
  const rest = await pruner.prune({}, 'ana')
  t.match(rest, { matched: left, deleted: left, complete: true })
  t.equal(await ledger.count({ status: 'sent' }), 0)
})

t.test('prune by hand: a dry run only counts; older_than overrides RETENTION; bad values are named', async (t) => {
  const ledger = await openLedger('sqlite::memory:')
  t.teardown(() => ledger.close())
  const clock = () => new Date()
  const pruner = createPruner({ ledger, actions: createActionLog({ ledger, clock, logger: quiet }), clock, logger: quiet, retentionMs: null })
  await delivery(ledger, 'sent', new Date(Date.now() - 10 * DAY))
  await delivery(ledger, 'sent', new Date(Date.now() - 1 * DAY))
  await t.rejects(pruner.prune({}, 'ana'), { code: 'INVALID_INPUT', details: [{ field: 'older_than', message: /RETENTION is off/ }] })
  await t.rejects(pruner.prune({ older_than: '5 days' }, 'ana'), { code: 'INVALID_INPUT', details: [{ field: 'older_than' }] })
  await t.rejects(pruner.prune({ older_than: '0d' }, 'ana'), { code: 'INVALID_INPUT', details: [{ field: 'older_than', message: /longer than zero/ }] })
  t.match(await pruner.prune({ older_than: '5d', dry_run: true }, 'ana'), { matched: 1, deleted: 0, dry_run: true })
  t.equal(await ledger.count({}), 2)
  t.equal(await ledger.lastPrune(), null, 'a dry run is not a prune')
  t.match(await pruner.prune({ older_than: '5d' }, 'ana'), { matched: 1, deleted: 1, attempts: 1, complete: true })
  t.equal(await ledger.count({}), 1)
  t.match(await ledger.listActions({ limit: 5 }), [{ kind: 'prune', operator: 'ana', request: { older_than: '5d' }, result: { deleted: 1 } }])
})

t.test('under a steady load with a short RETENTION the file stops growing', async (t) => {
  // 30 "days" of 300 deliveries each, pruned daily with a RETENTION of 3 days: 9,000 rows
  // written, about 1,200 alive at any time. The clock is the test's; sizes are measured, not timed.
  const path = join(dir, 'steady.sqlite')
  const ledger = await openLedger(`sqlite:${path}`)
  t.teardown(() => ledger.close())
  const start = Date.parse('2026-01-01T00:00:00Z')
  let now = start
  const clock = () => new Date(now)
  const pruner = createPruner({ ledger, actions: createActionLog({ ledger, clock, logger: quiet }), clock, logger: quiet, retentionMs: 3 * DAY })
  const sizes: number[] = []
  const fileSize = () => statSync(path).size + (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0)
  for (let day = 0; day < 30; day++) {
    now = start + day * DAY
    await Promise.all(Array.from({ length: 300 }, () => delivery(ledger, day % 5 === 0 ? 'skipped' : 'sent', new Date(now), 'x'.repeat(600))))
    await pruner.prune({}, SYSTEM_OPERATOR)
    sizes.push(fileSize())
  }
  t.ok((await ledger.count({})) <= 1200, `rows alive stay bounded (${await ledger.count({})})`)
  const settled = Math.max(...sizes.slice(5, 10))
  const late = Math.max(...sizes.slice(20))
  t.comment(`file + WAL bytes by day: ${sizes.map((s) => Math.round(s / 1024)).join(' ')} KiB`)
  t.ok(late <= settled * 1.15, `days 20-29 (${Math.round(late / 1024)} KiB) are no bigger than days 5-9 (${Math.round(settled / 1024)} KiB), while three times the rows were written`)
  t.ok(sizes[29]! < sizes[0]! * 10, 'far below what 30 days of rows would take')
})
