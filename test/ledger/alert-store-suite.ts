// One behaviour suite for the alerts outbox of every Ledger implementation (SQLite file and
// :memory:, PostgreSQL). `sibling` opens a second Ledger on the same store: a second process.
import type { Test } from 'tap'
import type { AlertStore, NewAlert } from '../../src/ledger/alert-types.js'
import type { Ledger, NewDelivery } from '../../src/ledger/types.js'
import type { StoreFactory } from './ledger-suite.js'

const T0 = Date.parse('2026-03-01T12:00:00.000Z')
const at = (ms: number): Date => new Date(T0 + ms)
const LEASE = 60_000
const ALL = ['slack', 'email', 'teams', 'webhook', 'a', 'b', 'c']

let keys = 0
const alert = (over: Partial<NewAlert> = {}): NewAlert => ({
  kind: 'test.kind',
  dedupeKey: `key-${++keys}`,
  payload: { n: keys, text: 'ü <b>' },
  ...over
})

let records = 0
function delivery(over: Partial<NewDelivery> = {}): NewDelivery {
  const recordId = over.recordId ?? `rec${++records}`
  return {
    app: 'data-tracker',
    recordId,
    srNumber: `SR-${records}`,
    atdActivityId: records,
    contentHash: 'h',
    source: 'webhook',
    record: { id: recordId },
    ...over
  }
}

async function claimOne(store: AlertStore, owner: string, now: Date) {
  const claimed = await store.claimSends(owner, LEASE, now, ALL)
  return claimed.map((c) => `${c.channel}:${c.alert.dedupeKey}`).sort()
}

export function alertStoreSuite(t: Test, open: StoreFactory, opts: { secondHandle: boolean }): void {
  const fresh = async (t: Test) => {
    const h = await open((fn) => t.teardown(fn))
    return { ...h, store: h.ledger.alerts }
  }

  t.test('add writes the alert and a pending send per channel, once per dedupe key', async (t) => {
    const { store } = await fresh(t)
    const a = alert({ payload: { nested: { list: [1, 'two'] }, text: 'ü <b>' } })
    const first = await store.add(a, ['slack', 'email', 'slack'], at(0))
    t.ok(first.created, 'created')
    const again = await store.add({ ...a, payload: { other: true } }, ['slack', 'teams'], at(1000))
    t.same(again, { id: first.id, created: false }, 'the same key is the same alert, not a second one')
    t.ok(await store.has(a.dedupeKey), 'has the key')
    t.notOk(await store.has('never-written'), 'has not another key')
    const [stored] = await store.recent(10)
    t.equal(stored?.kind, 'test.kind')
    t.same(stored?.payload, { nested: { list: [1, 'two'] }, text: 'ü <b>' }, 'payload round-trips, the first one kept')
    t.equal(stored?.createdAt.getTime(), T0)
    t.same(stored?.sends.map((s) => [s.channel, s.status, s.attempts]), [['email', 'pending', 0], ['slack', 'pending', 0]], 'one send per distinct channel')
    const none = await store.add(alert(), [], at(0))
    t.ok(none.created, 'an alert with no channel is still recorded')
    t.same((await store.recent(1))[0]?.sends, [], 'with no sends')
  })

  t.test('claim: one send per channel at a time, oldest first; a lease keeps others off', async (t) => {
    const { store } = await fresh(t)
    const a1 = alert()
    const a2 = alert()
    await store.add(a1, ['slack', 'email'], at(0))
    await store.add(a2, ['slack', 'email'], at(10))
    t.same(await store.claimSends('p0', LEASE, at(20), ['teams']), [], 'only the channels asked for')
    t.same(await claimOne(store, 'p1', at(20)), [`email:${a1.dedupeKey}`, `slack:${a1.dedupeKey}`], 'each channel\'s head')
    t.same(await claimOne(store, 'p2', at(30)), [], 'leased heads are not handed out again, nor the sends behind them')
    t.ok(await store.markSent((await store.recent(10)).find((x) => x.dedupeKey === a1.dedupeKey)!.id, 'slack', 'p1', at(40)), 'marked sent by its owner')
    t.same(await claimOne(store, 'p2', at(50)), [`slack:${a2.dedupeKey}`], 'slack moves on to the next alert; email still leased')
    t.same(await claimOne(store, 'p3', at(LEASE + 30)), [`email:${a1.dedupeKey}`], 'an expired lease is claimable again; a live one is not')
  })

  t.test('a late owner changes nothing; retry waits; given up lets the next one go', async (t) => {
    const { store } = await fresh(t)
    const { id: id1 } = await store.add(alert(), ['webhook'], at(0))
    const { id: id2 } = await store.add(alert(), ['webhook'], at(0))
    await store.claimSends('old', LEASE, at(0), ALL)
    await store.claimSends('new', LEASE, at(LEASE + 1), ALL)
    t.notOk(await store.markSent(id1, 'webhook', 'old', at(LEASE + 2)), 'the owner whose lease was taken over cannot mark it')
    t.ok(await store.markRetry(id1, 'webhook', 'new', 'HTTP 503', at(LEASE + 5000), at(LEASE + 3)), 'the new owner can')
    t.same(await store.claimSends('new', LEASE, at(LEASE + 4000), ALL), [], 'not due before next_attempt_at, and the next alert waits behind it')
    t.equal((await store.nextSendDueAt())?.getTime(), T0 + LEASE + 5000, 'next due is the retry time')
    const [retried] = await store.claimSends('new', LEASE, at(LEASE + 5000), ALL)
    t.equal(retried?.attempts, 1, 'the claim says how many tries were made')
    t.ok(await store.markGivenUp(id1, 'webhook', 'new', 'failed', 'HTTP 400 invalid_payload', at(LEASE + 5001)))
    const [next] = await store.claimSends('new', LEASE, at(LEASE + 5002), ALL)
    t.equal(next?.alert.id, id2, 'the next alert goes once the first is given up')
    const queues = await store.channelQueues()
    t.equal(queues.length, 1)
    t.equal(queues[0]?.pending, 1)
    t.equal(queues[0]?.head?.alertId, id2)
    t.same(queues[0]?.lastGivenUp && { id: queues[0].lastGivenUp.alertId, status: queues[0].lastGivenUp.status, error: queues[0].lastGivenUp.lastError }, {
      id: id1,
      status: 'failed',
      error: 'HTTP 400 invalid_payload'
    })
    t.ok(await store.markSent(id2, 'webhook', 'new', at(LEASE + 6000)))
    const after = await store.channelQueues()
    t.equal(after[0]?.pending, 0, 'nothing pending')
    t.equal(after[0]?.lastSentAt?.getTime(), T0 + LEASE + 6000, 'last success recorded')
    t.equal(await store.nextSendDueAt(), null, 'nothing due')
    const [sent1, sent2] = (await store.recent(10)).reverse()
    t.same(sent1?.sends.map((s) => [s.status, s.attempts, s.lastError]), [['failed', 2, 'HTTP 400 invalid_payload']])
    t.same(sent2?.sends.map((s) => [s.status, s.attempts, s.sentAt?.getTime()]), [['sent', 1, T0 + LEASE + 6000]])
  })

  t.test('releaseForeignLeases frees other owners\' sends, due at once', async (t) => {
    const { store } = await fresh(t)
    await store.add(alert(), ['email'], at(0))
    await store.claimSends('dead-process', LEASE, at(0), ALL)
    t.equal(await store.releaseForeignLeases('me', at(10)), 1)
    t.equal((await store.claimSends('me', LEASE, at(10), ALL)).length, 1, 'claimable before the lease would have ended')
    t.equal(await store.releaseForeignLeases('me', at(20)), 0, 'its own lease is kept')
  })

  t.test('groups: items wait, then one alert gathers every waiting item, once', async (t) => {
    const { store } = await fresh(t)
    t.ok(await store.addGroupItem('delivery.dead', 'd1', { id: 1 }, at(0)))
    t.notOk(await store.addGroupItem('delivery.dead', 'd1', { id: 1 }, at(5)), 'an item key is taken once')
    await store.addGroupItem('delivery.dead', 'd2', { id: 2 }, at(10))
    await store.addGroupItem('other', 'o1', { id: 9 }, at(0))
    const build = (items: { item: Record<string, unknown> }[]): NewAlert => ({
      kind: 'deliveries.dead',
      dedupeKey: `dead:${String(items[0]?.item.id)}`,
      payload: { ids: items.map((i) => i.item.id) }
    })
    t.equal(await store.closeGroup('delivery.dead', at(-1), build, ['slack'], at(20)), null, 'not before its oldest item is old enough')
    const id = await store.closeGroup('delivery.dead', at(0), build, ['slack'], at(20))
    t.type(id, 'number')
    t.equal(await store.closeGroup('delivery.dead', at(1000), build, ['slack'], at(30)), null, 'nothing left to gather')
    const [written] = await store.recent(1)
    t.same(written?.payload, { ids: [1, 2] }, 'both items, not the other group\'s')
    t.same(written?.sends.map((s) => s.channel), ['slack'])
    await store.addGroupItem('delivery.dead', 'd3', { id: 3 }, at(40))
    const next = await store.closeGroup('delivery.dead', at(40), build, ['slack'], at(50))
    t.not(next, id, 'a later item makes a new alert')
    t.same((await store.recent(1))[0]?.payload, { ids: [3] })
  })

  t.test('dead deliveries no item was written for since they died', async (t) => {
    const { ledger } = await fresh(t)
    const store = ledger.alerts
    const dead = async (when: number) => {
      const { delivery: d } = await ledger.enqueue(delivery(), 'once', at(when - 10))
      await ledger.claim('w', 100, LEASE, at(when - 5))
      await ledger.finish(d.id, { owner: 'w', status: 'dead', attempts: 1, lastError: `reason ${d.id}`, now: at(when) })
      return d.id
    }
    const announced = await dead(1000)
    const lost = await dead(2000)
    const diedAgain = await dead(3000)
    const tooOld = await dead(-10_000)
    await store.addGroupItem('delivery.dead', `${announced}:1001`, { id: announced }, at(1001), String(announced))
    // An item from an earlier death of the same delivery does not cover this one.
    await store.addGroupItem('delivery.dead', `${diedAgain}:10`, { id: diedAgain }, at(10), String(diedAgain))
    const missed = await store.unannouncedDead('delivery.dead', at(0), at(5000), 100)
    t.same(missed.map((d) => d.id), [lost, diedAgain], 'the lost ones in the window, in the order they died')
    t.same(missed[0] && { app: missed[0].app, lastError: missed[0].lastError, diedAt: missed[0].diedAt.getTime() }, { app: 'data-tracker', lastError: `reason ${lost}`, diedAt: T0 + 2000 })
    t.notOk(missed.some((d) => d.id === tooOld), 'not before the window')
    t.same((await store.unannouncedDead('delivery.dead', at(0), at(2500), 100)).map((d) => d.id), [lost], 'not after it')
    t.same((await store.unannouncedDead('other.group', at(0), at(5000), 100)).length, 3, 'per group')
  })

  t.test('episodes open once and close once, each with its alert', async (t) => {
    const { store } = await fresh(t)
    t.equal(await store.episode('stuck'), undefined)
    t.ok(await store.openEpisode('stuck', { delivery: 4 }, alert({ kind: 'open' }), ['teams'], at(0)))
    t.notOk(await store.openEpisode('stuck', { delivery: 5 }, alert({ kind: 'open' }), ['teams'], at(10)), 'already open: no second alert')
    t.same(await store.episode('stuck'), { name: 'stuck', startedAt: at(0), detail: { delivery: 4 } })
    t.ok(await store.closeEpisode('stuck', (e) => alert({ kind: 'close', payload: { since: e.startedAt.toISOString() } }), ['teams'], at(20)))
    t.notOk(await store.closeEpisode('stuck', () => alert({ kind: 'close' }), ['teams'], at(30)), 'closed once')
    const kinds = (await store.recent(10)).map((a) => a.kind)
    t.same(kinds, ['close', 'open'], 'one opening and one closing alert')
    t.same((await store.recent(1))[0]?.payload, { since: at(0).toISOString() })
    t.same((await store.between(['open', 'close'], at(0), at(1))).map((a) => a.kind), ['open'], 'between: by kind and time, [from, to)')
    t.same((await store.between(['close'], at(0), at(100))).map((a) => a.kind), ['close'])
  })

  t.test('oldest pending delivery and a day\'s counts per app', async (t) => {
    const { ledger } = await fresh(t)
    const store = ledger.alerts
    t.equal(await store.oldestPending(), null, 'none while the ledger is empty')
    const mk = async (app: string, n: number, createdAt: number) => {
      const out = []
      for (let i = 0; i < n; i++) out.push((await ledger.enqueue(delivery({ app }), 'once', at(createdAt))).delivery)
      return out
    }
    const finish = async (l: Ledger, id: number, status: 'sent' | 'skipped' | 'dead', when: number) => {
      await l.claim('w', 100, LEASE, at(when))
      if (!(await l.finish(id, { owner: 'w', status, attempts: 1, now: at(when) }))) throw new Error(`delivery ${id} not finished`)
    }
    const dt = await mk('data-tracker', 6, 0)
    const sm = await mk('signs-markings', 2, 1000)
    await finish(ledger, dt[0]!.id, 'sent', 2000)
    await finish(ledger, dt[1]!.id, 'sent', 3000)
    await finish(ledger, dt[2]!.id, 'skipped', 3000)
    await finish(ledger, dt[3]!.id, 'dead', 3000)
    await finish(ledger, sm[0]!.id, 'sent', 99_000) // outside the window
    const oldest = await store.oldestPending()
    t.equal(oldest?.id, dt[4]!.id, 'the lowest pending id')
    t.equal(oldest?.app, 'data-tracker')
    t.equal(oldest?.createdAt.getTime(), T0)
    const counts = await store.dayCounts(at(1000), at(10_000), at(500))
    t.same(
      counts.map((c) => [c.app, c.sent, c.skipped, c.dead, c.pending, c.stuck, c.oldest?.id]),
      [
        ['data-tracker', 2, 1, 1, 2, 2, dt[4]!.id],
        ['signs-markings', 0, 0, 0, 1, 0, sm[1]!.id]
      ]
    )
  })

  if (!opts.secondHandle) return

  t.test('two processes: one alert per key, one group alert, each send claimed once', async (t) => {
    const { ledger, sibling } = await fresh(t)
    const other = await sibling!()
    const stores = [ledger.alerts, other.alerts]
    const key = alert()
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => stores[i % 2]!.add(key, ['slack'], at(i))))
    t.equal(results.filter((r) => r.created).length, 1, 'one insert wins')
    t.equal(new Set(results.map((r) => r.id)).size, 1, 'all see the same id')

    for (let i = 0; i < 12; i++) await stores[i % 2]!.addGroupItem('g', `g${i}`, { i }, at(0))
    const build = (items: { item: Record<string, unknown> }[]): NewAlert => ({ kind: 'g', dedupeKey: `g:${items.length}:${String(items[0]?.item.i)}`, payload: { n: items.length } })
    const closed = await Promise.all(Array.from({ length: 6 }, (_, i) => stores[i % 2]!.closeGroup('g', at(0), build, ['slack'], at(1))))
    const ids = closed.filter((id) => id !== null)
    t.equal(ids.length, 1, `one closer gathers the group (${JSON.stringify(closed)})`)
    const groupAlert = (await ledger.alerts.recent(10)).find((a) => a.kind === 'g')
    t.same(groupAlert?.payload, { n: 12 }, 'with all twelve items')

    for (let i = 0; i < 5; i++) await ledger.alerts.add(alert(), ['a', 'b', 'c'], at(10))
    const seen: string[] = []
    for (let round = 0; round < 40; round++) {
      const batches = await Promise.all(stores.map((s, i) => s.claimSends(`p${i}`, LEASE, at(100 + round), ALL)))
      for (const [i, batch] of batches.entries()) {
        for (const c of batch) {
          seen.push(`${c.channel}:${c.alert.id}`)
          await stores[i]!.markSent(c.alert.id, c.channel, `p${i}`, at(100 + round))
        }
      }
      if ((await ledger.alerts.nextSendDueAt()) === null) break
    }
    t.equal(seen.length, 17, 'every send (two alerts on one channel, five on three) claimed')
    t.equal(new Set(seen).size, seen.length, 'none claimed twice')
  })
}
