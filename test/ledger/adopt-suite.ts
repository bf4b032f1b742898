// Fetch before send in the ledger (migration 11), for every store: a delivery's origin is kept,
// and adoptKnackRecord replaces a body with what Knack holds — for the lease holder only, and
// never into a second delivery of content another delivery of the record already has.
import type { Test } from 'tap'
import type { NewDelivery } from '../../src/ledger/types.js'
import type { StoreFactory, SuiteOptions } from './ledger-suite.js'

const T0 = Date.parse('2025-03-01T12:00:00.000Z')
const at = (ms: number): Date => new Date(T0 + ms)
const LEASE = 60_000

function body(recordId: string, over: Partial<NewDelivery> = {}): NewDelivery {
  return {
    app: 'data-tracker',
    recordId,
    srNumber: 'SR-9',
    atdActivityId: 5,
    contentHash: 'hash-body',
    source: 'webhook',
    record: { id: recordId, field_1: 'as posted' },
    recordOrigin: 'body',
    ...over
  }
}

const knack = (recordId: string, owner: string | null, now: Date) => ({
  owner,
  record: { id: recordId, field_1: 'as Knack holds it' },
  srNumber: 'SR-10',
  atdActivityId: 6,
  contentHash: 'hash-knack',
  now
})

export function adoptSuite(t: Test, factory: StoreFactory, opts: SuiteOptions): void {
  const needsSecond = opts.secondHandle ? {} : { skip: 'needs a second handle on the store, which :memory: cannot have' }
  const fresh = (sub: { teardown: (fn: () => unknown) => void }) => factory((fn) => sub.teardown(fn))

  t.test('record origin: body when told, knack by default', async (t) => {
    const { ledger } = await fresh(t)
    const a = await ledger.enqueue(body('o1'), 'once', at(0))
    t.equal(a.delivery.recordOrigin, 'body')
    t.equal((await ledger.get(a.delivery.id))?.recordOrigin, 'body')
    const { recordOrigin: _, ...rest } = body('o2')
    const b = await ledger.enqueue(rest, 'once', at(0))
    t.equal(b.delivery.recordOrigin, 'knack')
  })

  t.test("adoptKnackRecord: the body is replaced by Knack's record and content, and its origin is knack", async (t) => {
    const { ledger } = await fresh(t)
    const { delivery: d } = await ledger.enqueue(body('r1'), 'once', at(0))
    await ledger.claim('w', 10, LEASE, at(0))
    const r = await ledger.adoptKnackRecord(d.id, knack('r1', 'w', at(10)))
    t.equal(r.kind, 'adopted')
    const back = await ledger.get(d.id)
    t.same(
      [back?.record, back?.contentHash, back?.srNumber, back?.atdActivityId, back?.recordOrigin, back?.status, back?.leaseOwner],
      [{ id: 'r1', field_1: 'as Knack holds it' }, 'hash-knack', 'SR-10', 6, 'knack', 'sending', 'w'],
      'record, keys and origin replaced; the lease is still held'
    )
    t.equal(back?.updatedAt.getTime(), at(10).getTime())

    // The once-per-content rule follows the new content: a sweep of Knack's content finds this
    // delivery, and the stale body (no longer anyone's content) is a new one.
    const sweep = await ledger.enqueue({ ...body('r1'), source: 'sweep', recordOrigin: 'knack', contentHash: 'hash-knack' }, 'once', at(20))
    t.same([sweep.created, sweep.delivery.id], [false, d.id], 'a sweep of the same content is a duplicate of it')
  })

  t.test('adoptKnackRecord: content another delivery of the record has already makes this one a duplicate, unchanged', async (t) => {
    const { ledger } = await fresh(t)
    const { delivery: hooked } = await ledger.enqueue(body('r2'), 'once', at(0))
    const { delivery: swept } = await ledger.enqueue({ ...body('r2'), source: 'sweep', recordOrigin: 'knack', contentHash: 'hash-knack' }, 'once', at(1))
    await ledger.claim('w', 1, LEASE, at(2))
    const before = await ledger.get(hooked.id)
    t.equal(before?.leaseOwner, 'w', 'the body delivery (the SR head) is held')
    const r = await ledger.adoptKnackRecord(hooked.id, knack('r2', 'w', at(10)))
    t.equal(r.kind, 'duplicate')
    if (r.kind === 'duplicate') t.equal(r.of.id, swept.id, 'the sweep delivery is named')
    t.same(await ledger.get(hooked.id), before, 'nothing written')

    // Another record with that content hash is no twin.
    const { delivery: other } = await ledger.enqueue(body('r3'), 'once', at(20))
    await ledger.finish(hooked.id, { owner: 'w', status: 'skipped', attempts: 1, now: at(21) })
    await ledger.finish(swept.id, { owner: null, status: 'sent', attempts: 1, now: at(21) })
    await ledger.claim('w', 10, LEASE, at(22))
    t.equal((await ledger.adoptKnackRecord(other.id, knack('r3', 'w', at(23)))).kind, 'adopted')
  })

  t.test('adoptKnackRecord: only the lease holder writes; an unknown id is DELIVERY_NOT_FOUND', async (t) => {
    const { ledger } = await fresh(t)
    const { delivery: d } = await ledger.enqueue(body('r4'), 'once', at(0))
    await ledger.claim('A', 10, 1_000, at(0))
    await ledger.claim('B', 10, 1_000, at(1_000))
    const before = await ledger.get(d.id)
    t.same(await ledger.adoptKnackRecord(d.id, knack('r4', 'A', at(1_100))), { kind: 'lost' }, 'A lost its lease')
    t.same(await ledger.get(d.id), before, 'nothing written')
    t.equal((await ledger.adoptKnackRecord(d.id, knack('r4', 'B', at(1_200)))).kind, 'adopted')
    await t.rejects(ledger.adoptKnackRecord(424_242, knack('x', 'B', at(1_300))), { code: 'DELIVERY_NOT_FOUND' })
  })

  t.test('adopted state is durable: a second handle on the store sees Knack\'s content and origin', needsSecond, async (t) => {
    const { ledger, sibling } = await fresh(t)
    const { delivery: d } = await ledger.enqueue(body('r5'), 'once', at(0))
    await ledger.claim('w', 10, LEASE, at(0))
    await ledger.adoptKnackRecord(d.id, knack('r5', 'w', at(10)))
    const other = await sibling!()
    const back = await other.get(d.id)
    t.same([back?.recordOrigin, back?.contentHash], ['knack', 'hash-knack'])
  })
}
