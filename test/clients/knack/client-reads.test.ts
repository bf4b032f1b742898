// The Knack client against the simulator over loopback: reads, paging, writes, fields.
import t from 'tap'
import type { Test } from 'tap'
import { createKnackClient } from '../../../src/clients/knack/client.js'
import { isKnackFailure } from '../../../src/errors.js'
import { startKnackSimulator, appSpecFor } from '../../../src/sandbox/knack-simulator.js'
import { fieldsOf } from '../../../src/sandbox/knack-records.js'
import type { KnackRecord } from '../../../src/clients/knack/types.js'
import { testApp, activity } from './fixtures.js'

const LIST_ROUTE = 'GET /pages/:scene/views/:view/records'

async function setup(t: Test, readyCount: number) {
  // High limits on both sides: these tests are about paging, not pacing.
  const sim = await startKnackSimulator({ rateLimit: 1000 })
  const app = testApp()
  sim.addApp(appSpecFor(app))
  const ready = Array.from({ length: readyCount }, (_, i) => activity(app, i + 1))
  const notReady = Array.from({ length: 40 }, (_, i) => activity(app, readyCount + 1 + i, { status: 'SENT' }))
  const blankEmi = Array.from({ length: 40 }, (_, i) => activity(app, readyCount + 41 + i, { emiId: '' }))
  // Seed out of order so the sort is what puts them in order.
  sim.seed(app.credentials.appId, app.obj, shuffle([...ready, ...notReady, ...blankEmi]))
  const client = createKnackClient({ baseUrl: sim.url, rateLimit: 1000 })
  t.teardown(async () => {
    await client.close()
    await sim.close()
  })
  return { sim, app, client }
}

t.test('readyRecords reads every page lazily, in atd_activity_id order, only ready records', async (t) => {
  const { sim, app, client } = await setup(t, 2500)
  const iterator = client.readyRecords(app)[Symbol.asyncIterator]()
  const first = await iterator.next()
  t.equal((first.value as KnackRecord).id, 'rec-1')
  t.equal(sim.stats().byRoute[LIST_ROUTE], 1, 'only the first page was fetched so far')

  const ids: string[] = [(first.value as KnackRecord).id]
  for (let r = await iterator.next(); !r.done; r = await iterator.next()) ids.push(r.value.id)
  t.equal(ids.length, 2500, 'all ready records')
  t.same(ids, Array.from({ length: 2500 }, (_, i) => `rec-${i + 1}`), 'in ascending atd_activity_id order, none of the others')
  t.equal(sim.stats().byRoute[LIST_ROUTE], 3, 'three pages of 1000')
})

t.test('readyRecords stops on an empty page when records leave the filter while paging', async (t) => {
  const { sim, app, client } = await setup(t, 2500)
  const seen: string[] = []
  for await (const record of client.readyRecords(app)) {
    seen.push(record.id)
    if (seen.length === 1000) {
      // Everything after the first page is sent by someone else meanwhile: page 2 comes back empty.
      sim.seed(
        app.credentials.appId,
        app.obj,
        Array.from({ length: 1500 }, (_, i) => activity(app, 1001 + i, { status: 'SENT' }))
      )
    }
    if (seen.length > 3000) break
  }
  t.equal(seen.length, 1000)
  t.equal(sim.stats().byRoute[LIST_ROUTE], 2, 'fetched page 2, found it empty, stopped')
})

t.test('readyRecords misses nothing when the records already read are marked SENT while paging', async (t) => {
  // What a sweep does to its own view: the worker marks early records SENT while later pages
  // are still to be read. Numbered pages would shift forward and skip a page's worth.
  const { sim, app, client } = await setup(t, 2500)
  const seen: string[] = []
  for await (const record of client.readyRecords(app)) {
    seen.push(record.id)
    const n = Number(record.id.slice('rec-'.length))
    sim.seed(app.credentials.appId, app.obj, [activity(app, n, { status: 'SENT' })])
    if (seen.length > 3000) break
  }
  t.equal(seen.length, 2500, 'every ready record, once')
  t.equal(new Set(seen).size, 2500)
  t.same(seen.slice(995, 1005), Array.from({ length: 10 }, (_, i) => `rec-${996 + i}`), 'no gap at the page boundary')
})

t.test('readyRecords on an empty view yields nothing after one request', async (t) => {
  const { sim, app, client } = await setup(t, 0)
  const seen: KnackRecord[] = []
  for await (const record of client.readyRecords(app)) seen.push(record)
  t.same(seen, [])
  t.equal(sim.stats().byRoute[LIST_ROUTE], 1)
})

t.test('readRecord reads through the view; a missing record is a non-retryable 404', async (t) => {
  const { app, client } = await setup(t, 3)
  const record = await client.readRecord(app, 'rec-2')
  t.equal(record.id, 'rec-2')
  t.equal(record[`${app.fields.atd_activity_id}_raw`], 2)
  t.equal(record[`${app.fields.activity_details}_raw`], 'Line one of 2\nLine <two> & more')
  const err = await client.readRecord(app, 'nope').catch((e: unknown) => e)
  t.ok(isKnackFailure(err))
  if (isKnackFailure(err)) {
    t.equal(err.status, 404)
    t.equal(err.retryable, false)
    t.match(err.message, /GET \/pages\/scene_514\/views\/view_1653\/records\/nope/)
  }
})

t.test('updateStatus PUTs the status field through the object', async (t) => {
  const { sim, app, client } = await setup(t, 3)
  await client.updateStatus(app, 'rec-3', 'SENT')
  const stored = sim.getRecord(app.credentials.appId, app.obj, 'rec-3')
  t.equal(stored?.[app.fields.esb_status], 'SENT')
  t.equal(stored?.[`${app.fields.esb_status}_raw`], 'SENT')
  const puts = sim.stats().puts
  t.equal(puts.length, 1)
  t.same(puts[0]?.body, { [app.fields.esb_status]: 'SENT' })
  t.equal(puts[0]?.obj, app.obj)
  // The record left the ready set.
  const ids: string[] = []
  for await (const r of client.readyRecords(app)) ids.push(r.id)
  t.same(ids, ['rec-1', 'rec-2'])
})

t.test('listFields answers key, name and type of each field', async (t) => {
  const { app, client } = await setup(t, 0)
  const fields = await client.listFields(app)
  t.same(fields, fieldsOf(app))
  t.ok(fields.some((f) => f.key === app.fields.emi_id))
})

t.test('an unknown object is a non-retryable 404', async (t) => {
  const { app, client } = await setup(t, 0)
  const err = await client.listFields({ ...app, obj: 'object_999' }).catch((e: unknown) => e)
  t.ok(isKnackFailure(err) && err.status === 404 && !err.retryable)
})

function shuffle<T>(items: T[]): T[] {
  // Deterministic: a fixed-seed LCG keeps failures reproducible.
  let seed = 42
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    const j = seed % (i + 1)
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}
