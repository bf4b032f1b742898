// One behaviour suite for every Ledger implementation. Each test gets a fresh, empty store from the
// factory; `sibling` opens a second Ledger on the same store (a second "process"), when the store
// can have one (not :memory:).
import type { Test } from 'tap'
import { DELIVERY_SOURCES, DELIVERY_STATUSES } from '../../src/ledger/types.js'
import type { Delivery, FinishUpdate, Ledger, NewDelivery } from '../../src/ledger/types.js'
import { adoptSuite } from './adopt-suite.js'
import { lifecycleSuite } from './lifecycle-suite.js'

export interface StoreHandle {
  ledger: Ledger
  sibling: (() => Promise<Ledger>) | undefined
}
/** Make a fresh store; register its clean-up (closing, dropping) with `teardown`. */
export type StoreFactory = (teardown: (fn: () => unknown) => void) => Promise<StoreHandle>

const T0 = Date.parse('2025-03-01T12:00:00.000Z')
const at = (ms: number): Date => new Date(T0 + ms)
const LEASE = 60_000

let recordCounter = 0
function delivery(over: Partial<NewDelivery> = {}): NewDelivery {
  const recordId = over.recordId ?? `rec${++recordCounter}`
  return {
    app: 'data-tracker',
    recordId,
    srNumber: 'SR-1',
    atdActivityId: 1,
    contentHash: 'hash-a',
    source: 'webhook',
    record: { id: recordId, field_1: 'Closed', field_1_raw: { nested: [1, 'ü'] } },
    ...over
  }
}

/** Deterministic shuffle (LCG) so a failure reproduces. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items]
  let s = seed
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648
    const j = s % (i + 1)
    const tmp = out[i] as T
    out[i] = out[j] as T
    out[j] = tmp
  }
  return out
}

const sent = (now: Date) => ({ status: 'sent' as const, attempts: 1, now })

/** finish as whoever holds the lease now (the tests below are about other rules; the owner
 *  check has its own tests). */
async function finishHeld(ledger: Ledger, id: number, update: Omit<FinishUpdate, 'owner'>): Promise<boolean> {
  const owner = (await ledger.get(id))?.leaseOwner ?? null
  return ledger.finish(id, { ...update, owner })
}

async function acceptHeld(ledger: Ledger, id: number, esbResponse: string, now: Date): Promise<boolean> {
  const owner = (await ledger.get(id))?.leaseOwner ?? null
  return ledger.markEsbAccepted(id, { owner, esbResponse, now })
}

export interface SuiteOptions {
  /** False for stores that cannot be opened twice (:memory:): those tests are reported skipped. */
  secondHandle: boolean
}

export function ledgerSuite(t: Test, factory: StoreFactory, opts: SuiteOptions): void {
  const needsSecond = opts.secondHandle ? {} : { skip: 'needs a second handle on the store, which :memory: cannot have' }
  const fresh = (sub: { teardown: (fn: () => unknown) => void }) => factory((fn) => sub.teardown(fn))

  t.test('every source is stored, replay included; a new delivery is not a possible duplicate', async (t) => {
    const { ledger } = await fresh(t)
    for (const source of DELIVERY_SOURCES) {
      const { delivery: d } = await ledger.enqueue(delivery({ source }), 'once', at(0))
      const back = await ledger.get(d.id)
      t.equal(back?.source, source, source)
      t.equal(back?.possibleDuplicate, false)
    }
  })

  t.test('enqueue once: the same app, record and content returns the first delivery in any status', async (t) => {
    const { ledger } = await fresh(t)
    const input = delivery({ recordId: 'r1' })
    const first = await ledger.enqueue(input, 'once', at(0))
    t.equal(first.created, true)
    t.equal(first.delivery.status, 'queued')
    t.equal(first.delivery.attempts, 0)
    t.equal(first.delivery.nextAttemptAt.getTime(), T0, 'due at once')
    t.equal(first.delivery.source, 'webhook')
    t.same(first.delivery.record, input.record, 'record stored as received')

    const again = await ledger.enqueue({ ...input, source: 'sweep' }, 'once', at(1))
    t.equal(again.created, false)
    t.equal(again.delivery.id, first.delivery.id)

    const changed = await ledger.enqueue({ ...input, contentHash: 'hash-b' }, 'once', at(2))
    t.equal(changed.created, true, 'new content is a new delivery')
    t.not(changed.delivery.id, first.delivery.id)

    const otherApp = await ledger.enqueue({ ...input, app: 'signs-markings' }, 'once', at(3))
    t.equal(otherApp.created, true, 'same record id in another app is another delivery')

    await ledger.claim('w', 10, LEASE, at(4))
    await finishHeld(ledger, first.delivery.id, sent(at(5)))
    const afterSent = await ledger.enqueue(input, 'once', at(6))
    t.equal(afterSent.created, false, 'a sent delivery still absorbs the duplicate')
    t.equal(afterSent.delivery.id, first.delivery.id)
    t.equal(afterSent.delivery.status, 'sent')
  })

  t.test('enqueue resend: returns a pending delivery of the same content, else a new one', async (t) => {
    const { ledger } = await fresh(t)
    const input = delivery({ recordId: 'r1' })
    const once = await ledger.enqueue(input, 'once', at(0))
    const whilePending = await ledger.enqueue({ ...input, source: 'resend' }, 'resend', at(1))
    t.equal(whilePending.created, false)
    t.equal(whilePending.delivery.id, once.delivery.id, 'a queued delivery is reused')

    await ledger.claim('w', 10, LEASE, at(2))
    await finishHeld(ledger, once.delivery.id, sent(at(3)))
    const resend = await ledger.enqueue({ ...input, source: 'resend' }, 'resend', at(4))
    t.equal(resend.created, true, 'after it was sent, a resend makes a new delivery')
    t.equal(resend.delivery.source, 'resend')
    t.equal(resend.delivery.status, 'queued')

    const resendAgain = await ledger.enqueue({ ...input, source: 'resend' }, 'resend', at(5))
    t.equal(resendAgain.created, false, 'a second click while it is pending reuses it')
    t.equal(resendAgain.delivery.id, resend.delivery.id)

    const webhook = await ledger.enqueue(input, 'once', at(6))
    t.equal(webhook.created, false, 'a webhook of the same content does not add a third')
    t.equal(webhook.delivery.id, resend.delivery.id, 'the pending one is returned')

    const other = await ledger.enqueue({ ...input, contentHash: 'hash-z', source: 'resend' }, 'resend', at(7))
    t.equal(other.created, true, 'different content is a new delivery')
    t.equal((await ledger.list({ limit: 10 })).length, 3)
  })

  t.test('50 concurrent identical enqueues make one row', async (t) => {
    const { ledger, sibling } = await fresh(t)
    const other = sibling ? await sibling() : ledger
    const input = delivery({ recordId: 'same' })
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? ledger : other).enqueue(input, 'once', at(i)))
    )
    t.equal(results.filter((r) => r.created).length, 1, 'exactly one created')
    t.equal(new Set(results.map((r) => r.delivery.id)).size, 1, 'all answers name the same delivery')
    t.equal((await ledger.list({ limit: 100 })).length, 1, 'one row in the store')
  })

  t.test('claim: one row per SR at a time, in atd order, different SRs together', async (t) => {
    const { ledger } = await fresh(t)
    const srs = ['SR-A', 'SR-B', 'SR-C']
    const inputs = srs.flatMap((sr, s) =>
      [1, 2, 3, 4, 5].map((k) => delivery({ recordId: `${sr}-${k}`, srNumber: sr, atdActivityId: (s + 1) * 100 + k }))
    )
    for (const input of shuffled(inputs, 7)) await ledger.enqueue(input, 'once', at(0))

    for (let round = 1; round <= 5; round++) {
      const now = at(round * 10)
      const rows = await ledger.claim('w', 10, LEASE, now)
      t.same(
        rows.map((r) => [r.srNumber, r.atdActivityId]),
        srs.map((sr, s) => [sr, (s + 1) * 100 + round]),
        `round ${round}: the next activity of each SR, ordered by atd`
      )
      t.ok(rows.every((r) => r.status === 'sending' && r.leaseUntil?.getTime() === now.getTime() + LEASE))
      t.same(await ledger.claim('w2', 10, LEASE, now), [], 'nothing more while they are leased')
      for (const r of rows) await finishHeld(ledger, r.id, sent(now))
    }
    t.same(await ledger.claim('w', 10, LEASE, at(100)), [], 'all sent')
    t.equal((await ledger.countByStatus()).sent, 15)
  })

  t.test('claim honours limit, due time and order by next_attempt_at', async (t) => {
    const { ledger } = await fresh(t)
    await ledger.enqueue(delivery({ srNumber: 'SR-1', atdActivityId: 9 }), 'once', at(20))
    await ledger.enqueue(delivery({ srNumber: 'SR-2', atdActivityId: 5 }), 'once', at(10))
    await ledger.enqueue(delivery({ srNumber: 'SR-3', atdActivityId: 1 }), 'once', at(30))
    t.same(await ledger.claim('w', 10, LEASE, at(5)), [], 'nothing due yet')
    const two = await ledger.claim('w', 2, LEASE, at(30))
    t.same(
      two.map((r) => r.srNumber),
      ['SR-2', 'SR-1'],
      'earliest due first, limit respected'
    )
    t.same(await ledger.claim('w', 0, LEASE, at(30)), [], 'limit 0 claims nothing')
  })

  t.test('a failed earlier activity blocks the later one until it is sent or dead', async (t) => {
    const { ledger } = await fresh(t)
    const one = await ledger.enqueue(delivery({ srNumber: 'SR-X', atdActivityId: 1 }), 'once', at(0))
    const two = await ledger.enqueue(delivery({ srNumber: 'SR-X', atdActivityId: 2 }), 'once', at(0))
    t.same((await ledger.claim('w', 10, LEASE, at(0))).map((r) => r.id), [one.delivery.id])
    await finishHeld(ledger, one.delivery.id, {
      status: 'failed',
      attempts: 1,
      nextAttemptAt: at(60_000),
      lastError: 'ESB answered 500',
      now: at(1)
    })
    t.same(await ledger.claim('w', 10, LEASE, at(1_000)), [], 'the later activity waits')
    t.equal((await ledger.nextDueAt())?.getTime(), T0 + 60_000, 'the worker sleeps until the retry')
    const retry = await ledger.claim('w', 10, LEASE, at(60_000))
    t.same(retry.map((r) => [r.id, r.status, r.attempts]), [[one.delivery.id, 'sending', 1]], 'the retry comes first')
    await finishHeld(ledger, one.delivery.id, { status: 'dead', attempts: 2, lastError: 'gave up', now: at(60_001) })
    t.same(
      (await ledger.claim('w', 10, LEASE, at(60_002))).map((r) => r.id),
      [two.delivery.id],
      'dead unblocks the next activity'
    )
  })

  t.test('an earlier activity arriving late waits while a later one of its SR is leased', async (t) => {
    const { ledger } = await fresh(t)
    const later = await ledger.enqueue(delivery({ srNumber: 'SR-L', atdActivityId: 5 }), 'once', at(0))
    t.equal((await ledger.claim('w', 10, LEASE, at(0))).length, 1)
    const earlier = await ledger.enqueue(delivery({ srNumber: 'SR-L', atdActivityId: 3 }), 'once', at(1))
    t.same(await ledger.claim('w2', 10, LEASE, at(2)), [], 'never two rows of one SR at once')
    // A claim of one is answered by the quick window alone (CLAIM_IN_WINDOW): it must see the lease too.
    t.same(await ledger.claim('w2', 1, LEASE, at(2)), [], 'never two rows of one SR at once, a claim of one either')
    await finishHeld(ledger, later.delivery.id, sent(at(3)))
    t.same((await ledger.claim('w2', 10, LEASE, at(4))).map((r) => r.id), [earlier.delivery.id])
  })

  t.test('an expired lease lets a second owner resume; esb_accepted keeps its status', async (t) => {
    const { ledger } = await fresh(t)
    const { delivery: d } = await ledger.enqueue(delivery(), 'once', at(0))
    t.equal((await ledger.claim('A', 10, 1_000, at(0))).length, 1)
    t.same(await ledger.claim('B', 10, 1_000, at(500)), [], 'lease still live')
    const resumed = await ledger.claim('B', 10, 1_000, at(1_000))
    t.same(resumed.map((r) => [r.id, r.status, r.leaseUntil?.getTime()]), [[d.id, 'sending', T0 + 2_000]])

    await acceptHeld(ledger, d.id, '<ok/>', at(1_100))
    const accepted = await ledger.get(d.id)
    t.equal(accepted?.status, 'esb_accepted')
    t.equal(accepted?.esbResponse, '<ok/>')
    t.equal(accepted?.esbAcceptedAt?.getTime(), T0 + 1_100)
    t.equal(accepted?.leaseUntil?.getTime(), T0 + 2_000, 'the lease is kept')
    t.same(await ledger.claim('A', 10, 1_000, at(1_500)), [], 'not claimable while leased')
    const again = await ledger.claim('A', 10, 1_000, at(2_000))
    t.same(again.map((r) => [r.id, r.status]), [[d.id, 'esb_accepted']], 'only Knack is left to do')
  })

  t.test('requeue: failed and dead only; after the ESB said yes it goes back to esb_accepted', async (t) => {
    const { ledger } = await fresh(t)
    const a = (await ledger.enqueue(delivery({ srNumber: 'SR-1' }), 'once', at(0))).delivery
    const b = (await ledger.enqueue(delivery({ srNumber: 'SR-2' }), 'once', at(0))).delivery
    const c = (await ledger.enqueue(delivery({ srNumber: 'SR-3' }), 'once', at(0))).delivery
    t.equal(await ledger.requeue(a.id, at(1)), false, 'a queued delivery is not requeued')
    await ledger.claim('w', 10, LEASE, at(1))
    await finishHeld(ledger, a.id, { status: 'failed', attempts: 3, nextAttemptAt: at(99_000), lastError: 'x', now: at(2) })
    await acceptHeld(ledger, b.id, '<ok/>', at(2))
    await finishHeld(ledger, b.id, { status: 'dead', attempts: 8, lastError: 'Knack 400', now: at(3) })
    await finishHeld(ledger, c.id, sent(at(3)))

    t.equal(await ledger.requeue(a.id, at(10)), true)
    const ra = await ledger.get(a.id)
    t.same([ra?.status, ra?.attempts, ra?.nextAttemptAt.getTime(), ra?.leaseUntil], ['queued', 0, T0 + 10, null])
    t.equal(await ledger.requeue(b.id, at(10)), true)
    t.equal((await ledger.get(b.id))?.status, 'esb_accepted')
    t.equal(await ledger.requeue(c.id, at(10)), false, 'a sent delivery stays sent')
    t.equal(await ledger.requeue(999_999, at(10)), false, 'unknown id')
    const claimed = await ledger.claim('w', 10, LEASE, at(10))
    t.same(
      claimed.map((r) => [r.id, r.status]).sort((x, y) => Number(x[0]) - Number(y[0])),
      [
        [a.id, 'sending'],
        [b.id, 'esb_accepted']
      ]
    )
  })

  t.test('releaseForeignLeases frees rows held by other owners', async (t) => {
    const { ledger } = await fresh(t)
    const a = (await ledger.enqueue(delivery({ srNumber: 'SR-1' }), 'once', at(0))).delivery
    const b = (await ledger.enqueue(delivery({ srNumber: 'SR-2' }), 'once', at(0))).delivery
    await ledger.claim('old', 10, LEASE, at(0))
    await finishHeld(ledger, a.id, { status: 'failed', attempts: 2, nextAttemptAt: at(0), now: at(0) })
    await ledger.claim('old', 10, LEASE, at(0))
    await acceptHeld(ledger, b.id, '<ok/>', at(0))
    t.equal(await ledger.releaseForeignLeases('old'), 0, 'its own leases stay')
    t.equal(await ledger.releaseForeignLeases('new'), 2)
    const ra = await ledger.get(a.id)
    const rb = await ledger.get(b.id)
    t.same([ra?.status, ra?.attempts, ra?.leaseUntil], ['queued', 2, null], 'sending → queued, attempts kept')
    t.same([rb?.status, rb?.leaseUntil], ['esb_accepted', null])
    t.equal((await ledger.claim('new', 10, LEASE, at(1))).length, 2, 'both claimable at once')
  })

  t.test('finish keeps or clears last_error and next_attempt_at as told', async (t) => {
    const { ledger } = await fresh(t)
    const { delivery: d } = await ledger.enqueue(delivery(), 'once', at(0))
    await finishHeld(ledger, d.id, { status: 'failed', attempts: 1, nextAttemptAt: at(500), lastError: 'boom', now: at(1) })
    let row = await ledger.get(d.id)
    t.same([row?.lastError, row?.nextAttemptAt.getTime(), row?.updatedAt.getTime()], ['boom', T0 + 500, T0 + 1])
    await finishHeld(ledger, d.id, { status: 'failed', attempts: 2, now: at(2) })
    row = await ledger.get(d.id)
    t.same([row?.lastError, row?.nextAttemptAt.getTime(), row?.attempts], ['boom', T0 + 500, 2], 'undefined keeps')
    await finishHeld(ledger, d.id, { status: 'sent', attempts: 3, lastError: null, now: at(3) })
    row = await ledger.get(d.id)
    t.same([row?.status, row?.lastError, row?.leaseUntil], ['sent', null, null], 'null clears')
    await t.rejects(ledger.finish(424_242, { ...sent(at(4)), owner: null }), { code: 'DELIVERY_NOT_FOUND' })
    await t.rejects(acceptHeld(ledger, 424_242, 'x', at(4)), { code: 'DELIVERY_NOT_FOUND' })
  })

  t.test('finish and markEsbAccepted write only for the lease holder; a late worker changes nothing', async (t) => {
    const { ledger } = await fresh(t)
    const { delivery: d } = await ledger.enqueue(delivery(), 'once', at(0))
    t.equal((await ledger.claim('A', 10, 1_000, at(0))).length, 1, 'A holds the lease')
    // A's lease runs out mid-attempt; B takes the delivery over and finishes it.
    t.equal((await ledger.claim('B', 10, 1_000, at(1_000))).length, 1, 'B takes it over after the lease expired')
    const step = (outcome: string, ms: number) => ({ n: 1, step: 'esb' as const, outcome, detail: null, startedAt: at(ms), finishedAt: at(ms + 1) })
    t.equal(await ledger.markEsbAccepted(d.id, { owner: 'B', esbResponse: '<b/>', now: at(1_100), attempt: step('accepted', 1_099) }), true)
    t.equal(await ledger.finish(d.id, { owner: 'B', status: 'sent', attempts: 1, lastError: null, now: at(1_200), attempt: { ...step('updated', 1_199), step: 'knack' } }), true)
    const done = await ledger.get(d.id)

    // A comes back late with a failure: refused, nothing written.
    t.equal(
      await ledger.finish(d.id, { owner: 'A', status: 'failed', attempts: 1, nextAttemptAt: at(9_000), lastError: 'late', now: at(1_300), attempt: step('failed', 1_250) }),
      false,
      "A's late finish is refused"
    )
    t.same(await ledger.get(d.id), done, "B's result stands, row untouched")
    t.same((await ledger.attempts(d.id)).map((a) => a.outcome), ['accepted', 'updated'], 'no attempt row from the refused finish')

    // A late ESB yes: the status stays B's, the attempt is kept and the delivery flagged.
    t.equal(await ledger.markEsbAccepted(d.id, { owner: 'A', esbResponse: '<a/>', now: at(1_400), attempt: step('accepted', 1_350) }), false)
    const after = await ledger.get(d.id)
    t.same([after?.status, after?.esbResponse, after?.possibleDuplicate], ['sent', '<b/>', true], 'status kept, possible duplicate marked')
    const history = await ledger.attempts(d.id)
    t.equal(history.length, 3)
    t.match(history[2]?.detail, /lost its lease/, 'the late yes is on record, saying so')
    await t.rejects(ledger.finish(424_242, { ...sent(at(4)), owner: 'A' }), { code: 'DELIVERY_NOT_FOUND' })
  })

  t.test('the message the ESB accepted is kept exactly, only for the lease holder', async (t) => {
    const { ledger } = await fresh(t)
    const { delivery: d } = await ledger.enqueue(delivery(), 'once', at(0))
    t.equal((await ledger.get(d.id))?.esbRequest, null, 'none before')
    await ledger.claim('w', 10, LEASE, at(0))
    const xml = '<?xml version="1.0"?><x>caf&amp;e \u00e9 \n</x>'
    t.equal(await ledger.markEsbAccepted(d.id, { owner: 'other', esbResponse: '<no/>', esbRequest: '<late/>', now: at(1) }), false)
    t.equal((await ledger.get(d.id))?.esbRequest, null, 'a late yes does not write the message')
    t.equal(await ledger.markEsbAccepted(d.id, { owner: 'w', esbResponse: '<ok/>', esbRequest: xml, now: at(2) }), true)
    t.equal((await ledger.get(d.id))?.esbRequest, xml)
  })

  t.test('the status and the attempt row it comes from commit together or not at all', async (t) => {
    const { ledger } = await fresh(t)
    const { delivery: d } = await ledger.enqueue(delivery(), 'once', at(0))
    await ledger.claim('w', 10, LEASE, at(0))
    // A step the attempts table refuses (its CHECK constraint) must take the status change with it.
    const bad = { n: 1, step: 'nonsense' as 'esb', outcome: 'x', detail: null, startedAt: at(1), finishedAt: at(2) }
    await t.rejects(ledger.finish(d.id, { owner: 'w', status: 'sent', attempts: 1, now: at(2), attempt: bad }))
    const row = await ledger.get(d.id)
    t.same([row?.status, row?.leaseOwner], ['sending', 'w'], 'status and lease unchanged')
    t.same(await ledger.attempts(d.id), [], 'no attempt row')
    await t.rejects(ledger.markEsbAccepted(d.id, { owner: 'w', esbResponse: '<ok/>', now: at(3), attempt: bad }))
    t.equal((await ledger.get(d.id))?.esbAcceptedAt, null, 'the yes is not recorded without its attempt')
  })

  t.test('get, attempts and the stored record', async (t) => {
    const { ledger } = await fresh(t)
    const input = delivery({ atdActivityId: 2_147_483_650, record: { id: 'r', field_9: 'Ça & <x>', n: [1, { a: null }] } })
    const { delivery: d } = await ledger.enqueue({ ...input, recordId: 'r' }, 'once', at(0))
    const got = await ledger.get(d.id)
    t.same(got, d, 'get returns what enqueue returned')
    t.equal(got?.atdActivityId, 2_147_483_650, 'large activity ids survive')
    t.same(got?.record, input.record)
    t.ok(got?.createdAt instanceof Date)
    t.equal(await ledger.get(987_654), undefined)

    await ledger.claim('w', 10, LEASE, at(1))
    t.equal(
      await ledger.markEsbAccepted(d.id, {
        owner: 'w',
        esbResponse: '<ok/>',
        now: at(2),
        attempt: { n: 1, step: 'esb', outcome: 'accepted', detail: null, startedAt: at(1), finishedAt: at(2) }
      }),
      true
    )
    t.equal(
      await ledger.finish(d.id, {
        owner: 'w',
        status: 'esb_accepted',
        attempts: 1,
        nextAttemptAt: at(60_000),
        lastError: 'Bad gateway',
        now: at(4),
        attempt: { n: 1, step: 'knack', outcome: 'http_502', detail: 'Bad gateway', startedAt: at(3), finishedAt: at(4) }
      }),
      true
    )
    const attempts = await ledger.attempts(d.id)
    t.same(
      attempts.map((a) => [a.deliveryId, a.n, a.step, a.outcome, a.detail, a.startedAt.getTime(), a.finishedAt.getTime()]),
      [
        [d.id, 1, 'esb', 'accepted', null, T0 + 1, T0 + 2],
        [d.id, 1, 'knack', 'http_502', 'Bad gateway', T0 + 3, T0 + 4]
      ]
    )
    t.same(await ledger.attempts(987_654), [])
  })

  t.test('list: newest first, filtered by app and status, limited', async (t) => {
    const { ledger } = await fresh(t)
    const ids: number[] = []
    for (let i = 0; i < 6; i++) {
      const app = i % 2 === 0 ? 'data-tracker' : 'signs-markings'
      ids.push((await ledger.enqueue(delivery({ app, srNumber: `SR-${i}` }), 'once', at(i))).delivery.id)
    }
    const [id0, id1, id2, id3, id4, id5] = ids as [number, number, number, number, number, number]
    await finishHeld(ledger, id0, { status: 'dead', attempts: 8, now: at(10) })
    await finishHeld(ledger, id3, { status: 'dead', attempts: 8, now: at(10) })
    t.same((await ledger.list({ limit: 100 })).map((d) => d.id), [id5, id4, id3, id2, id1, id0])
    t.same((await ledger.list({ limit: 2 })).map((d) => d.id), [id5, id4])
    t.same((await ledger.list({ app: 'data-tracker', limit: 100 })).map((d) => d.id), [id4, id2, id0])
    t.same((await ledger.list({ status: 'dead', limit: 100 })).map((d) => d.id), [id3, id0])
    t.same((await ledger.list({ app: 'signs-markings', status: 'dead', limit: 100 })).map((d) => d.id), [id3])
    t.same(await ledger.list({ app: 'nope', limit: 100 }), [])
  })

  t.test('countByStatus, oldestPending and nextDueAt', async (t) => {
    const { ledger } = await fresh(t)
    const zeros = Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0]))
    t.same(await ledger.countByStatus(), zeros, 'every status present, zeros included')
    t.equal(await ledger.oldestPending(), null)
    t.equal(await ledger.nextDueAt(), null)
    await ledger.ping()

    const a = (await ledger.enqueue(delivery({ srNumber: 'SR-1' }), 'once', at(100))).delivery
    const b = (await ledger.enqueue(delivery({ srNumber: 'SR-2' }), 'once', at(200))).delivery
    const c = (await ledger.enqueue(delivery({ srNumber: 'SR-3' }), 'once', at(300))).delivery
    t.equal((await ledger.oldestPending())?.getTime(), T0 + 100)
    t.equal((await ledger.nextDueAt())?.getTime(), T0 + 100)

    await ledger.claim('w', 1, 5_000, at(150))
    t.equal((await ledger.nextDueAt())?.getTime(), T0 + 200, 'a leased row is not due')
    await finishHeld(ledger, a.id, sent(at(160)))
    await finishHeld(ledger, b.id, { status: 'failed', attempts: 1, nextAttemptAt: at(9_000), now: at(160) })
    t.equal((await ledger.nextDueAt())?.getTime(), T0 + 300)
    await finishHeld(ledger, c.id, { status: 'skipped', attempts: 0, now: at(160) })
    t.equal((await ledger.nextDueAt())?.getTime(), T0 + 9_000)
    t.equal((await ledger.oldestPending())?.getTime(), T0 + 200, 'failed is still pending')
    t.same(await ledger.countByStatus(), { ...zeros, sent: 1, failed: 1, skipped: 1 })

    await ledger.claim('w', 1, 5_000, at(9_000))
    t.equal((await ledger.nextDueAt())?.getTime(), T0 + 14_000, 'a sending row is due when its lease ends')
    t.same(await ledger.countByStatus(), { ...zeros, sent: 1, sending: 1, skipped: 1 })
    await finishHeld(ledger, b.id, { status: 'dead', attempts: 2, now: at(9_001) })
    t.equal(await ledger.oldestPending(), null)
    t.equal(await ledger.nextDueAt(), null)
  })

  t.test('durability: rows survive closing and reopening the store', needsSecond, async (t) => {
    const { ledger, sibling } = await fresh(t)
    if (!sibling) throw new Error('the factory gave no second handle')
    const { delivery: d } = await ledger.enqueue(delivery({ recordId: 'keep' }), 'once', at(0))
    await ledger.claim('w', 10, LEASE, at(1))
    await ledger.close()
    const reopened = await sibling()
    const got = await reopened.get(d.id)
    t.same([got?.recordId, got?.status, got?.leaseUntil?.getTime()], ['keep', 'sending', T0 + 1 + LEASE])
    const dup = await reopened.enqueue(delivery({ recordId: 'keep' }), 'once', at(2))
    t.same([dup.created, dup.delivery.id], [false, d.id], 'dedupe holds across reopen')
    const next = await reopened.enqueue(delivery({ recordId: 'next' }), 'once', at(3))
    t.ok(next.delivery.id > d.id, 'ids keep growing')
  })

  t.test('two ledgers on one store claiming together never hold two rows of one SR', needsSecond, async (t) => {
    const { ledger, sibling } = await fresh(t)
    if (!sibling) throw new Error('the factory gave no second handle')
    const other = await sibling()
    const srs = Array.from({ length: 20 }, (_, i) => `SR-${i}`)
    const inputs = srs.flatMap((sr) =>
      [1, 2, 3, 4, 5].map((k) => delivery({ recordId: `${sr}-${k}`, srNumber: sr, atdActivityId: k }))
    )
    const enqueueAt = new Date()
    for (const input of shuffled(inputs, 11)) await ledger.enqueue(input, 'once', enqueueAt)

    const inFlight = new Map<string, number>()
    const claimedIds = new Set<number>()
    const order = new Map<string, number[]>()
    const problems: string[] = []
    let done = 0

    async function work(l: Ledger, owner: string): Promise<void> {
      for (let i = 0; i < 500 && done < inputs.length; i++) {
        const rows = await l.claim(owner, 4, LEASE, new Date())
        for (const r of rows) {
          const holder = inFlight.get(r.srNumber)
          if (holder !== undefined) problems.push(`${owner} got ${r.id} while ${holder} of ${r.srNumber} is held`)
          if (claimedIds.has(r.id)) problems.push(`${owner} claimed ${r.id} twice`)
          inFlight.set(r.srNumber, r.id)
          claimedIds.add(r.id)
        }
        await Promise.all(rows.map((r) => finishLater(l, r)))
        if (rows.length === 0) await new Promise((resolve) => setTimeout(resolve, 1))
      }
    }
    async function finishLater(l: Ledger, r: Delivery): Promise<void> {
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 3)))
      // Released before the row is finished, so the check above can only under-report, never
      // flag a legitimate hand-over.
      inFlight.delete(r.srNumber)
      order.set(r.srNumber, [...(order.get(r.srNumber) ?? []), r.atdActivityId])
      await finishHeld(l, r.id, sent(new Date()))
      done++
    }

    await Promise.all([work(ledger, 'A'), work(other, 'B')])
    t.same(problems, [], 'no SR held twice, no row claimed twice')
    t.equal(claimedIds.size, inputs.length, 'every row claimed exactly once')
    for (const sr of srs) t.same(order.get(sr), [1, 2, 3, 4, 5], `${sr} sent in atd order`)
    t.equal((await ledger.countByStatus()).sent, inputs.length)
  })

  t.test('claim scope: knack hands out only esb_accepted heads, esb only the others', async (t) => {
    const { ledger } = await fresh(t)
    const accepted = (await ledger.enqueue(delivery({ srNumber: 'SR-A' }), 'once', at(0))).delivery
    const waiting = (await ledger.enqueue(delivery({ srNumber: 'SR-B' }), 'once', at(0))).delivery
    t.same((await ledger.claim('w', 10, LEASE, at(1), 'esb')).map((d) => d.id).sort(), [accepted.id, waiting.id].sort(), 'esb: both are ESB work yet')
    // One reaches esb_accepted (the ESB said yes, Knack failed) and waits for its retry.
    await acceptHeld(ledger, accepted.id, '<ok/>', at(2))
    await finishHeld(ledger, accepted.id, { status: 'esb_accepted', attempts: 1, nextAttemptAt: at(3), now: at(2) })
    await finishHeld(ledger, waiting.id, { status: 'failed', attempts: 1, nextAttemptAt: at(3), now: at(2) })
    t.same((await ledger.claim('w', 10, LEASE, at(4), 'knack')).map((d) => d.id), [accepted.id], 'knack: the accepted one only')
    t.same((await ledger.claim('w', 10, LEASE, at(4), 'knack')).map((d) => d.id), [], 'leased: not again')
    t.same((await ledger.claim('w', 10, LEASE, at(4), 'esb')).map((d) => d.id), [waiting.id], 'esb: the other')
  })

  t.test('the ESB gate row: starts ok; updates are read-modify-write, null leaves it', async (t) => {
    const { ledger } = await fresh(t)
    const start = await ledger.esbGate()
    t.same(start, { state: 'ok', since: null, cause: null, lastError: null, endpointFailures: 0, recordFailures: [], probeAt: null, updatedAt: null })
    const paused = { ...start, state: 'paused' as const, since: at(5), cause: 'endpoint' as const, lastError: 'HTTP 503', endpointFailures: 5, recordFailures: [3, 1], probeAt: at(30_005), updatedAt: at(5) }
    const { before, after } = await ledger.updateEsbGate((g) => (t.same(g, start), paused))
    t.same(before, start)
    t.same(after, paused)
    t.same(await ledger.esbGate(), paused, 'stored with every field')
    const unchanged = await ledger.updateEsbGate(() => null)
    t.same(unchanged.after, paused, 'null: nothing written')
    // Concurrent read-modify-writes see each other: no increment is lost.
    await Promise.all(Array.from({ length: 20 }, () => ledger.updateEsbGate((g) => ({ ...g, endpointFailures: g.endpointFailures + 1 }))))
    t.equal((await ledger.esbGate()).endpointFailures, 25)
  })

  t.test('the ESB gate row is shared by two handles: increments from both are all counted', needsSecond, async (t) => {
    const { ledger, sibling } = await fresh(t)
    const other = await sibling!()
    await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? ledger : other).updateEsbGate((g) => ({ ...g, endpointFailures: g.endpointFailures + 1 }))))
    t.equal((await ledger.esbGate()).endpointFailures, 30)
    t.equal((await other.esbGate()).endpointFailures, 30)
  })

  // Finding, bulk retry, replay, pruning and the actions log (issue 11).
  lifecycleSuite(t, factory, opts)
  adoptSuite(t, factory, opts)
}
