// The ledger over months, for every store (run from ledger-suite.ts): filters alone and combined
// paged through 2,500 rows, bulk requeue in per-SR order, replay sources and the replay key,
// pruning, the prune state and the actions log.
import type { Test } from 'tap'
import type { DeliveryFilter } from '../../src/ledger/lifecycle-types.js'
import type { Delivery, DeliveryStatus, Ledger, NewDelivery } from '../../src/ledger/types.js'
import type { StoreFactory, SuiteOptions } from './ledger-suite.js'

const T0 = Date.parse('2026-06-01T12:00:00.000Z')
const at = (ms: number): Date => new Date(T0 + ms)
const MINUTE = 60_000
const LEASE = 60_000
const FAR = at(365 * 86_400_000)

interface Row {
  id: number
  app: string
  srNumber: string
  recordId: string
  atd: number
  createdAt: number
  status: DeliveryStatus
  lastError: string | null
}

const ERRORS = ['ESB: SOAP fault: Activity code DISPTECH unknown', 'Knack status update: HTTP 503 Service Unavailable', 'record invalid: activity_name is blank']

/**
 * 2,500 deliveries: two apps, 400 SRs, 1,200 records (some with several deliveries), created at
 * times unrelated to their ids with many ties, in every status but `sending`. Only an SR's last
 * activities stay pending, so setting the others final never waits on the SR's order.
 */
async function seed2500(ledger: Ledger): Promise<Row[]> {
  const n = 2500
  const inputs: Array<{ input: NewDelivery; createdAt: number }> = []
  for (let i = 0; i < n; i++) {
    // A permutation of 0..n-1 (7919 is prime to 2500), halved so pairs share a created time.
    const createdAt = T0 + Math.floor(((i * 7919) % n) / 2) * MINUTE
    const recordId = `rec-${i % 1200}`
    inputs.push({
      createdAt,
      input: {
        app: i % 3 === 0 ? 'signs-markings' : 'data-tracker',
        recordId,
        srNumber: `SR-${i % 400}`,
        atdActivityId: i,
        contentHash: `h${i}`,
        source: 'sweep',
        record: { id: recordId, n: i }
      }
    })
  }
  const rows: Row[] = []
  for (let k = 0; k < n; k += 250) {
    const chunk = inputs.slice(k, k + 250)
    const made = await Promise.all(chunk.map((c) => ledger.enqueue(c.input, 'once', new Date(c.createdAt))))
    made.forEach((m, j) => {
      const c = chunk[j] as (typeof chunk)[number]
      rows.push({ id: m.delivery.id, app: c.input.app, srNumber: c.input.srNumber, recordId: c.input.recordId, atd: c.input.atdActivityId, createdAt: c.createdAt, status: 'queued', lastError: null })
    })
  }
  const byId = new Map(rows.map((r) => [r.id, r]))
  const target = (r: Row): { status: DeliveryStatus; error: string | null } => {
    if (r.atd >= 2100) {
      const k = r.atd % 3
      if (k === 0) return { status: 'failed', error: ERRORS[1] as string }
      if (k === 1) return { status: 'esb_accepted', error: ERRORS[1] as string }
      return { status: 'queued', error: null }
    }
    const k = r.atd % 7
    if (k <= 2) return { status: 'sent', error: null }
    if (k === 3) return { status: 'skipped', error: null }
    return { status: 'dead', error: ERRORS[Math.floor(r.atd / 7) % ERRORS.length] as string }
  }
  for (let round = 0; round < 20; round++) {
    // Claimed after every row's created time (when it became due).
    const claimed = await ledger.claim('setup', 10_000, LEASE, at(30 * 86_400_000))
    const work = claimed.filter((d) => target(byId.get(d.id) as Row).status !== 'queued')
    if (work.length === 0) break
    await Promise.all(
      work.map(async (d) => {
        const r = byId.get(d.id) as Row
        const { status, error } = target(r)
        if (status === 'esb_accepted') await ledger.markEsbAccepted(d.id, { owner: 'setup', esbResponse: '<ok/>', now: at(0) })
        const pending = status === 'failed' || status === 'esb_accepted'
        await ledger.finish(d.id, { owner: 'setup', status, attempts: 1, lastError: error, nextAttemptAt: pending ? FAR : undefined, now: at(0) })
        r.status = status
        r.lastError = error
      })
    )
  }
  // What is left leased ('sending') is what should stay queued.
  await ledger.releaseForeignLeases('nobody')
  return rows
}

function matches(r: Row, f: DeliveryFilter): boolean {
  if (f.app !== undefined && r.app !== f.app) return false
  if (typeof f.status === 'string' && r.status !== f.status) return false
  if (Array.isArray(f.status) && !f.status.includes(r.status)) return false
  if (f.srNumber !== undefined && r.srNumber !== f.srNumber) return false
  if (f.recordId !== undefined && r.recordId !== f.recordId) return false
  if (f.since !== undefined && r.createdAt < f.since.getTime()) return false
  if (f.until !== undefined && r.createdAt >= f.until.getTime()) return false
  if (f.q !== undefined && !(r.lastError ?? '').toLowerCase().includes(f.q.toLowerCase())) return false
  return true
}

const newestFirst = (a: Row, b: Row) => b.createdAt - a.createdAt || b.id - a.id

async function pageAll(ledger: Ledger, filter: DeliveryFilter, limit: number): Promise<number[]> {
  const ids: number[] = []
  let before: number | undefined
  for (let pages = 0; pages < 1000; pages++) {
    const page = await ledger.list({ ...filter, limit, before })
    ids.push(...page.map((d) => d.id))
    const last = page[page.length - 1]
    if (!last || page.length < limit) return ids
    before = last.id
  }
  throw new Error('paging did not end')
}

let counter = 0
function input(over: Partial<NewDelivery> = {}): NewDelivery {
  const recordId = over.recordId ?? `life${++counter}`
  return { app: 'data-tracker', recordId, srNumber: 'SR-1', atdActivityId: 1, contentHash: `c${counter}`, source: 'webhook', record: { id: recordId }, ...over }
}

/** Enqueue, claim and finish one delivery into `status` (with `error`), created at `createdAt`. */
async function finished(ledger: Ledger, over: Partial<NewDelivery>, status: DeliveryStatus, createdAt: Date, opts: { error?: string; accepted?: Date } = {}): Promise<Delivery> {
  const { delivery } = await ledger.enqueue(input(over), 'once', createdAt)
  const claimed = await ledger.claim('w', 1000, LEASE, createdAt)
  if (!claimed.some((d) => d.id === delivery.id)) throw new Error(`delivery ${delivery.id} was not claimable`)
  if (opts.accepted) await ledger.markEsbAccepted(delivery.id, { owner: 'w', esbResponse: '<ok/>', now: opts.accepted })
  // A pending status waits far in the future, so later claims in the same test leave it alone.
  const pending = status === 'failed' || status === 'esb_accepted'
  const attempt = { n: 1, step: 'esb' as const, outcome: status, detail: opts.error ?? null, startedAt: createdAt, finishedAt: createdAt }
  const written = await ledger.finish(delivery.id, { owner: 'w', attempt, status, attempts: 1, lastError: opts.error ?? null, nextAttemptAt: pending ? FAR : undefined, now: createdAt })
  if (!written) throw new Error(`delivery ${delivery.id} was not finished`)
  return (await ledger.get(delivery.id)) as Delivery
}

export function lifecycleSuite(t: Test, factory: StoreFactory, opts: SuiteOptions): void {
  const fresh = (sub: { teardown: (fn: () => unknown) => void }) => factory((fn) => sub.teardown(fn))
  const needsSecond = opts.secondHandle ? {} : { skip: 'needs a second handle on the store, which :memory: cannot have' }

  t.test('find: every filter alone and combined, paged through 2,500 rows without a gap or a repeat', async (t) => {
    const { ledger } = await fresh(t)
    const rows = await seed2500(ledger)
    const statuses = new Set(rows.map((r) => r.status))
    t.same([...statuses].sort(), ['dead', 'esb_accepted', 'failed', 'queued', 'sent', 'skipped'], 'the data holds every status but sending')

    // Every filter at once, aimed at one dead data-tracker row with the SOAP fault.
    const aim = rows.find((r) => r.app === 'data-tracker' && r.status === 'dead' && r.lastError?.includes('SOAP') && r.createdAt > T0) as Row
    const everyFilter: DeliveryFilter = {
      app: 'data-tracker', status: 'dead', srNumber: aim.srNumber, recordId: aim.recordId,
      since: new Date(aim.createdAt), until: new Date(aim.createdAt + MINUTE), q: 'fault'
    }
    const filters: Array<[string, DeliveryFilter]> = [
      ['no filter', {}],
      ['app', { app: 'signs-markings' }],
      ['status dead', { status: 'dead' }],
      ['status sent', { status: 'sent' }],
      ['status queued', { status: 'queued' }],
      ['sr', { srNumber: 'SR-17' }],
      ['record', { recordId: 'rec-33' }],
      ['since', { since: at(300 * MINUTE) }],
      ['until', { until: at(200 * MINUTE) }],
      ['since and until', { since: at(100 * MINUTE), until: at(900 * MINUTE) }],
      ['q', { q: 'soap FAULT' }],
      ['q with a digit', { q: 'http 503' }],
      ['app and status', { app: 'data-tracker', status: 'sent' }],
      ['app, status and window', { app: 'data-tracker', status: 'dead', since: at(50 * MINUTE), until: at(1000 * MINUTE) }],
      ['sr and status', { srNumber: 'SR-5', status: 'sent' }],
      ['q, app and since', { q: 'knack', app: 'signs-markings', since: at(20 * MINUTE) }],
      ['record and app', { recordId: 'rec-7', app: 'data-tracker' }],
      ['failed or dead', { status: ['failed', 'dead'] }],
      ['every filter', everyFilter],
      ['nothing matches', { app: 'nope' }]
    ]
    for (const [label, filter] of filters) {
      const expected = rows.filter((r) => matches(r, filter)).sort(newestFirst).map((r) => r.id)
      const paged = await pageAll(ledger, filter, 97)
      t.same(paged, expected, `${label}: ${expected.length} rows, newest first, every page in order`)
      t.equal(new Set(paged).size, paged.length, `${label}: no row twice`)
      t.equal(await ledger.count(filter), expected.length, `${label}: count`)
    }
    t.equal((await pageAll(ledger, {}, 97)).length, 2500, 'all 2,500 rows, pages of 97')
    t.ok(rows.filter((r) => matches(r, { srNumber: 'SR-5', status: 'sent' })).length > 0, 'the narrow combinations are not empty by accident')
    t.ok(rows.filter((r) => matches(r, { q: 'soap FAULT' })).length > 0)
    t.equal(rows.filter((r) => matches(r, everyFilter)).length, 1, 'every filter at once still matches a row')

    t.same(await ledger.statusesOf(rows.slice(0, 700).map((r) => r.id)), countBy(rows.slice(0, 700)), 'statusesOf counts the given deliveries')
    t.same(await ledger.statusesOf([]), {})
  })

  t.test('a page cursor whose row was pruned meanwhile: the next page goes on where it was', async (t) => {
    const { ledger } = await fresh(t)
    const made: Delivery[] = []
    for (const [k, status] of (['dead', 'dead', 'dead', 'sent', 'sent', 'sent'] as const).entries()) {
      made.push(await finished(ledger, { srNumber: `SR-p${k}` }, status, at(k * 86_400_000)))
    }
    const ids = made.map((d) => d.id)
    const page1 = await ledger.list({ limit: 3 })
    t.same(page1.map((d) => d.id), [ids[5], ids[4], ids[3]])
    t.same(await ledger.pruneBatch('sent', at(3.5 * 86_400_000), 10), { deliveries: 1, attempts: 1 }, 'the cursor row (old and sent) is pruned')
    t.same((await ledger.list({ limit: 3, before: ids[3] })).map((d) => d.id), [ids[2], ids[1], ids[0]], 'page 2 after the gone row')
  })

  t.test('requeueMatching: failed and dead only, per-SR order, batches, a cursor, each row once', async (t) => {
    const { ledger } = await fresh(t)
    // Three SRs; each SR's dead deliveries were created out of atd order.
    const dead: Delivery[] = []
    for (const sr of ['SR-C', 'SR-A', 'SR-B']) {
      for (const atd of [5, 1, 4, 2, 3]) {
        dead.push(await finished(ledger, { srNumber: sr, atdActivityId: atd }, 'dead', at(atd * MINUTE), { error: 'Knack status update: 400', accepted: at(atd * MINUTE) }))
      }
    }
    const sent = await finished(ledger, { srNumber: 'SR-A', atdActivityId: 9 }, 'sent', at(0))
    const other = await finished(ledger, { app: 'signs-markings', srNumber: 'SR-A', atdActivityId: 1 }, 'dead', at(0), { error: 'x' })
    const order: string[] = []
    let after = null
    for (let i = 0; i < 10; i++) {
      const batch = await ledger.requeueMatching({ app: 'data-tracker' }, after, 4, at(HOUR))
      for (const id of batch.requeued) {
        const d = (await ledger.get(id)) as Delivery
        order.push(`${d.srNumber}/${d.atdActivityId}`)
        t.equal(d.status, 'esb_accepted', 'accepted before: back to esb_accepted, only Knack is left')
        t.same([d.attempts, d.nextAttemptAt.getTime(), d.leaseUntil], [0, T0 + HOUR, null])
      }
      if (!batch.next) break
      after = batch.next
    }
    t.same(order, ['SR-A', 'SR-B', 'SR-C'].flatMap((sr) => [1, 2, 3, 4, 5].map((k) => `${sr}/${k}`)), 'every SR in atd order, batch after batch')
    t.equal((await ledger.get(sent.id))?.status, 'sent', 'a sent delivery is not touched')
    t.equal((await ledger.get(other.id))?.status, 'dead', 'the other app is filtered out')
    const again = await ledger.requeueMatching({ app: 'data-tracker' }, null, 100, at(HOUR))
    t.same(again, { requeued: [], next: null }, 'asked again: nothing left to requeue')

    const plain = await finished(ledger, { srNumber: 'SR-Q' }, 'failed', at(0), { error: 'ESB: HTTP 500' })
    const byStatus = await ledger.requeueMatching({ status: 'failed' }, null, 10, at(HOUR))
    t.same(byStatus.requeued, [plain.id], 'the status filter narrows to failed')
    t.equal((await ledger.get(plain.id))?.status, 'queued', 'never accepted: back to queued')
    t.same((await ledger.requeueMatching({ status: 'dead', app: 'signs-markings', q: 'x' }, null, 10, at(HOUR))).requeued, [other.id])
    t.equal(dead.length, 15)
  })

  t.test('requeueMatching from two handles at once queues each row once', needsSecond, async (t) => {
    const { ledger, sibling } = await fresh(t)
    if (!sibling) throw new Error('no second handle')
    const other = await sibling()
    for (let i = 0; i < 40; i++) await finished(ledger, { srNumber: `SR-${i % 10}`, atdActivityId: i }, 'dead', at(i), { error: 'gave up' })
    const run = async (l: Ledger) => {
      const ids: number[] = []
      let after = null
      for (let i = 0; i < 100; i++) {
        const b = await l.requeueMatching({}, after, 3, at(HOUR))
        ids.push(...b.requeued)
        if (!b.next) break
        after = b.next
      }
      return ids
    }
    const [a, b] = await Promise.all([run(ledger), run(other)])
    t.equal(a.length + b.length, 40, `40 requeued in all (${a.length} + ${b.length})`)
    t.equal(new Set([...a, ...b]).size, 40, 'none twice')
  })

  t.test('acceptedIn: what the ESB accepted in [since, until), in time order, paged', async (t) => {
    const { ledger } = await fresh(t)
    const made: Delivery[] = []
    for (let i = 0; i < 12; i++) {
      made.push(await finished(ledger, { srNumber: `SR-${i % 3}`, atdActivityId: i }, 'sent', at(0), { accepted: at((12 - i) * MINUTE) }))
    }
    await finished(ledger, { srNumber: 'SR-0', atdActivityId: 99 }, 'skipped', at(0))
    await finished(ledger, { app: 'signs-markings', srNumber: 'SR-0' }, 'sent', at(0), { accepted: at(5 * MINUTE) })
    const window = { app: 'data-tracker', since: at(3 * MINUTE), until: at(10 * MINUTE) }
    const seen: Delivery[] = []
    let after = null
    for (let i = 0; i < 20; i++) {
      const page = await ledger.acceptedIn(window, after, 2)
      seen.push(...page)
      const last = page[page.length - 1]
      if (!last || page.length < 2) break
      after = { esbAcceptedAt: last.esbAcceptedAt as Date, id: last.id }
    }
    t.same(seen.map((d) => d.esbAcceptedAt?.getTime()), [3, 4, 5, 6, 7, 8, 9].map((m) => T0 + m * MINUTE), 'since included, until excluded, oldest first')
    t.same((await ledger.acceptedIn({ ...window, srNumber: 'SR-1' }, null, 100)).map((d) => d.srNumber), ['SR-1', 'SR-1'], 'one SR')
  })

  t.test('replay enqueue: one delivery per source, ever; the same content pending is reused', async (t) => {
    const { ledger, sibling } = await fresh(t)
    const handles = [ledger, ...(sibling ? [await sibling()] : [])]
    const source = await finished(ledger, { recordId: 'rr', contentHash: 'old' }, 'sent', at(0), { accepted: at(1) })
    const replay = { ...input({ recordId: 'rr', contentHash: 'new' }), source: 'replay' as const }
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (handles[i % handles.length] as Ledger).enqueue(replay, { replayOf: source.id }, at(2))))
    t.equal(results.filter((r) => r.created).length, 1, '30 concurrent replays of one source: one delivery')
    t.equal(new Set(results.map((r) => r.delivery.id)).size, 1)
    const made = results[0]?.delivery as Delivery
    t.equal(made.source, 'replay')
    t.not(made.id, source.id)
    const claimed = await ledger.claim('w', 10, LEASE, at(3))
    await ledger.finish(made.id, { owner: 'w', status: 'sent', attempts: 1, now: at(4) })
    t.same(claimed.map((d) => d.id), [made.id])
    const later = await ledger.enqueue({ ...replay, contentHash: 'newer' }, { replayOf: source.id }, at(5))
    t.same([later.created, later.delivery.id], [false, made.id], 'after it was sent, still no second replay of that source')

    const webhook = await ledger.enqueue(input({ recordId: 'pp', contentHash: 'same' }), 'once', at(6))
    const src2 = await finished(ledger, { recordId: 'pp', contentHash: 'older', srNumber: 'SR-pp' }, 'sent', at(0), { accepted: at(1) })
    const joined = await ledger.enqueue({ ...input({ recordId: 'pp', contentHash: 'same' }), source: 'replay' }, { replayOf: src2.id }, at(7))
    t.same([joined.created, joined.delivery.id], [false, webhook.delivery.id], 'the same content already queued is returned, not queued twice')
  })

  t.test('prune: only sent and skipped rows older than the cutoff, with their attempts', async (t) => {
    const { ledger } = await fresh(t)
    const old = at(0)
    const young = at(100 * 86_400_000)
    const cutoff = at(50 * 86_400_000)
    const keep: Delivery[] = []
    const gone: Delivery[] = []
    for (const [status, when] of [['sent', old], ['skipped', old], ['sent', young], ['skipped', young], ['dead', old], ['failed', old], ['esb_accepted', old]] as const) {
      const d = await finished(ledger, { srNumber: `SR-${status}-${when.getTime()}` }, status, when, { error: status === 'dead' || status === 'failed' ? 'why' : undefined, accepted: status === 'esb_accepted' ? when : undefined })
      ;(when === old && (status === 'sent' || status === 'skipped') ? gone : keep).push(d)
    }
    const sending = (await ledger.enqueue(input({ srNumber: 'SR-s' }), 'once', old)).delivery
    t.same((await ledger.claim('w', 10, LEASE, old)).map((d) => d.id), [sending.id], 'in flight')
    const queued = (await ledger.enqueue(input({ srNumber: 'SR-q' }), 'once', old)).delivery
    keep.push(queued, sending)
    t.equal(await ledger.countPrunable(cutoff), 2, 'two are eligible')

    for (const status of ['sent', 'skipped'] as const) {
      t.same(await ledger.pruneBatch(status, cutoff, 1), { deliveries: 1, attempts: 1 }, `a batch of one ${status} row`)
      t.same(await ledger.pruneBatch(status, cutoff, 10), { deliveries: 0, attempts: 0 }, 'then nothing')
    }
    for (const d of gone) {
      t.equal(await ledger.get(d.id), undefined, `old ${d.status} gone`)
      t.same(await ledger.attempts(d.id), [], 'and its attempts')
    }
    for (const d of keep) t.ok(await ledger.get(d.id), `${d.status} created ${d.createdAt.toISOString().slice(0, 10)} kept`)
    t.ok((await ledger.attempts(keep[0]?.id ?? 0)).length > 0, "kept rows' attempts kept")
    t.ok((await ledger.reclaimSpace(100)) >= 0)
  })

  t.test('prune state and the actions log', async (t) => {
    const { ledger } = await fresh(t)
    t.equal(await ledger.lastPrune(), null)
    const run = { startedAt: at(0), finishedAt: at(5), cutoff: at(-90), deliveries: 12, attempts: 30, operator: '(system)', error: null }
    await ledger.recordPrune(run)
    await ledger.recordPrune({ ...run, startedAt: at(10), finishedAt: at(20), deliveries: 3, operator: 'ana', error: 'stopped' })
    t.same(await ledger.lastPrune(), { ...run, startedAt: at(10), finishedAt: at(20), deliveries: 3, operator: 'ana', error: 'stopped' }, 'the last one is kept')

    t.same(await ledger.listActions({ limit: 10 }), [])
    const written = []
    for (let i = 0; i < 5; i++) {
      written.push(await ledger.addAction({ at: at(i), operator: `op${i}`, kind: 'retry', request: { delivery: i, nested: { ü: [1] } }, result: { status: 'queued' } }))
    }
    t.same(written[2], { id: written[2]?.id, at: at(2), operator: 'op2', kind: 'retry', request: { delivery: 2, nested: { ü: [1] } }, result: { status: 'queued' } })
    const page1 = await ledger.listActions({ limit: 3 })
    t.same(page1.map((a) => a.operator), ['op4', 'op3', 'op2'], 'newest first')
    const page2 = await ledger.listActions({ limit: 3, before: page1[2]?.id })
    t.same(page2.map((a) => a.operator), ['op1', 'op0'], 'paged with before')
  })
}

const HOUR = 3_600_000

function countBy(rows: Row[]): Partial<Record<DeliveryStatus, number>> {
  const out: Partial<Record<DeliveryStatus, number>> = {}
  for (const r of rows) out[r.status] = (out[r.status] ?? 0) + 1
  return out
}
