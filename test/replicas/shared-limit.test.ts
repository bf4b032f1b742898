// One Knack limit for all replicas (issue 10, part 2): two `knack311 serve` child processes on one
// PostgreSQL schema, each with KNACK_RATE_LIMIT=10, against one Knack simulator. Together they
// stay at 10 requests in any second and still use all of it; when one is SIGKILLed the other
// takes the whole limit at once. Needs KNACK311_TEST_PG; without it the file reports itself skipped.
import t from 'tap'
import { request } from 'undici'
import type { Stack } from '../../src/sandbox/stack.js'
import { startServiceChild, type ServiceChild } from '../helpers/child.js'
import { activity, startStack, waitFor } from '../helpers/stack.js'
import { testSchema } from '../helpers/pg-schema.js'

const url = process.env.KNACK311_TEST_PG
const app = 'data-tracker'
/** Each replica's setting, and (on PostgreSQL) the limit of both together. */
const RATE = 10
const SWEPT = 300

async function post(target: string, headers: Record<string, string>) {
  const res = await request(target, { method: 'POST', headers })
  return { status: res.statusCode, text: await res.body.text() }
}

/** The latest PUT per record, from the simulator's log (PUTs are the worker's Knack requests). */
function putsFor(stack: Stack, ids: readonly string[]) {
  const wanted = new Set(ids)
  return stack.knackSim.stats().puts.filter((p) => wanted.has(p.id))
}

if (!url) {
  t.plan(0, 'shared Knack limit across replicas skipped: KNACK311_TEST_PG is not set (e.g. postgres://postgres@127.0.0.1:5432/test)')
} else {
  t.test('two replicas share one Knack limit through PostgreSQL', async (t) => {
    const { schema, db, databaseUrl } = await testSchema(t, url)
    const stack = await startStack({
      buildService: false,
      knack: { latencyMs: 50 },
      env: {
        DATABASE_URL: databaseUrl,
        // A lease covers the wait at the shared limiter: 2 replicas × 4 workers at 10/s is under a second.
        LEASE_DURATION: '10s',
        ESB_TIMEOUT: '2s',
        KNACK_RATE_LIMIT: String(RATE),
        WORKER_CONCURRENCY: '4'
      }
    })
    t.teardown(() => stack.close())
    const children: ServiceChild[] = []
    t.teardown(() => Promise.all(children.map((c) => c.kill('SIGKILL'))))
    for (const s of await Promise.allSettled([startServiceChild(stack.env, 60_000), startServiceChild(stack.env, 60_000)])) {
      if (s.status === 'rejected') throw s.reason
      children.push(s.value)
    }
    const [a, b] = children as [ServiceChild, ServiceChild]
    const auth = { authorization: `Bearer ${stack.env.ADMIN_TOKEN ?? ''}` }
    const withOutput = (err: Error) => {
      throw new Error(`${err.message}\n--- replica a ---\n${a.output().slice(-4000)}\n--- replica b ---\n${b.output().slice(-4000)}`)
    }
    const sentInLedger = async (ids: readonly string[]) => {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${schema}.deliveries WHERE record_id = ANY($1::text[]) AND status = 'sent'`,
        [ids]
      )
      return rows[0]?.n ?? 0
    }
    const seed = (n: number, tag: string) => {
      // One SR per record: no record waits behind another's lease, so only the limit sets the pace.
      const acts = Array.from({ length: n }, (_, i) => activity({ srNumber: `26-${tag}-${String(i).padStart(3, '0')}` }))
      stack.seed(app, acts)
      return acts.map((x) => x.id)
    }

    await t.test(`${SWEPT} records swept by both: at most ${RATE} per second together, no 429, each once, close to the bound`, async (t) => {
      const ids = seed(SWEPT, 'S')
      stack.knackSim.resetStats()
      const startedAt = Date.now()
      const sweeps = await Promise.all([a, b].map((c) => post(`${c.url}/apps/${app}/sweep`, auth)))
      for (const s of sweeps) t.equal(s.status, 200, s.text)
      await waitFor(async () => ((await sentInLedger(ids)) === ids.length ? true : undefined), 120_000, `the ${SWEPT} deliveries to be sent`).catch(withOutput)

      const stats = stack.knackSim.stats()
      t.equal(stats.rateLimited, 0, 'Knack never answered 429')
      t.ok(stats.maxInAnyWindow <= RATE, `at most ${RATE} requests in any second from both replicas together (saw ${stats.maxInAnyWindow})`)
      const puts = putsFor(stack, ids)
      t.equal(puts.length, SWEPT, 'one Knack PUT per record')
      t.equal(new Set(puts.map((p) => p.id)).size, SWEPT, 'no record marked twice')
      const esb = stack.esbSim.received.filter((m) => ids.includes(m.values.id ?? ''))
      t.equal(esb.length, SWEPT, 'one ESB message per record')

      const tookMs = Math.max(...puts.map((p) => p.at)) - startedAt
      const boundMs = (stats.requests / RATE) * 1000
      t.ok(tookMs <= boundMs * 1.1, `the pair took ${tookMs} ms for ${stats.requests} Knack requests; the bound is ${boundMs} ms (${((boundMs / tookMs) * 100).toFixed(1)} % of it)`)
      t.comment(`sweep of ${SWEPT}: ${stats.requests} Knack requests in ${tookMs} ms = ${((stats.requests * 1000) / tookMs).toFixed(2)}/s for both replicas`)
    })

    await t.test('one replica SIGKILLed mid-sweep: the survivor speeds up to the full limit', async (t) => {
      const ids = seed(200, 'K')
      stack.knackSim.resetStats()
      const sweeps = await Promise.all([a, b].map((c) => post(`${c.url}/apps/${app}/sweep`, auth)))
      for (const s of sweeps) t.equal(s.status, 200, s.text)
      await waitFor(() => (putsFor(stack, ids).length >= 50 ? true : undefined), 60_000, '50 records to be marked').catch(withOutput)
      await a.kill('SIGKILL')
      const killedAt = Date.now()
      await waitFor(async () => ((await sentInLedger(ids)) === ids.length ? true : undefined), 120_000, 'the survivor to send the rest').catch(withOutput)

      const stats = stack.knackSim.stats()
      t.equal(stats.rateLimited, 0, 'Knack never answered 429')
      t.ok(stats.maxInAnyWindow <= RATE, `at most ${RATE} in any second, before and after the kill (saw ${stats.maxInAnyWindow})`)
      // From one hold after the kill (the dead replica's last slots have run out) to the last PUT:
      // every Knack request there is the survivor's.
      const after = putsFor(stack, ids)
        .map((p) => p.at)
        .filter((at) => at >= killedAt + 1100)
        .sort((x, y) => x - y)
      t.ok(after.length >= 60, `${after.length} PUTs after the kill to measure`)
      const first = after[0] ?? 0
      const last = after[after.length - 1] ?? 0
      const perSecond = ((after.length - 1) * 1000) / Math.max(1, last - first)
      t.ok(perSecond >= RATE * 0.85, `the survivor alone ran at ${perSecond.toFixed(2)}/s (its own setting is ${RATE}/s, not half)`)
    })
  })
}
