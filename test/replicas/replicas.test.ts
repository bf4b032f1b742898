// Two replicas of the service (child processes running `knack311 serve`) on one PostgreSQL schema,
// against the Knack and mutual-TLS ESB simulators: duplicate webhooks spread over both, a sweep
// started on both at once, and one replica SIGKILLed mid-batch. Needs KNACK311_TEST_PG; without
// it the file reports itself skipped.
import type pg from 'pg'
import t from 'tap'
import { request } from 'undici'
import type { Stack } from '../../src/sandbox/stack.js'
import type { ActivityInput } from '../../src/sandbox/knack-records.js'
import { startServiceChild, type ServiceChild } from '../helpers/child.js'
import { esbCountsByRecord, shuffled, waitForKnackStatus } from '../helpers/pipeline.js'
import { activity, knackRecord, startStack, waitFor } from '../helpers/stack.js'
import { testSchema } from '../helpers/pg-schema.js'

const url = process.env.KNACK311_TEST_PG
const app = 'data-tracker'
/** Each replica's KNACK_RATE_LIMIT: on PostgreSQL the limit of both together (README: "Several replicas"). */
const RATE_PER_REPLICA = 10
const CONCURRENCY = 4
const LEASE = '3s'

interface Replicas {
  stack: Stack
  a: ServiceChild
  b: ServiceChild
  db: pg.Client
  schema: string
  auth: Record<string, string>
}

async function http(method: 'GET' | 'POST', target: string, headers: Record<string, string>, body?: unknown) {
  const res = await request(target, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await res.body.text()
  return { status: res.statusCode, text, json: <T>() => JSON.parse(text) as T }
}

/** Run `tasks` with at most `width` in flight. */
async function pool<T>(tasks: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const out: T[] = new Array<T>(tasks.length)
  let next = 0
  const lane = async () => {
    while (next < tasks.length) {
      const i = next++
      out[i] = await (tasks[i] as () => Promise<T>)()
    }
  }
  await Promise.all(Array.from({ length: width }, lane))
  return out
}

/** Deliveries of these records in the shared ledger, read straight from PostgreSQL. */
async function ledgerRows(r: Replicas, ids: readonly string[]) {
  const { rows } = await r.db.query<{ record_id: string; status: string }>(
    `SELECT record_id, status FROM ${r.schema}.deliveries WHERE record_id = ANY($1::text[])`,
    [ids]
  )
  return rows
}

function waitAllSent(r: Replicas, ids: readonly string[], timeoutMs: number, what: string) {
  return waitFor(async () => {
    const rows = await ledgerRows(r, ids)
    return rows.length === ids.length && rows.every((d) => d.status === 'sent') ? rows : undefined
  }, timeoutMs, what)
}

/** ESB messages for these records only (the simulator holds every batch's). */
function esbFor(stack: Stack, ids: readonly string[]) {
  const wanted = new Set(ids)
  return stack.esbSim.received.filter((m) => wanted.has(m.values.id ?? ''))
}

async function sentCount(child: ServiceChild): Promise<number> {
  const res = await http('GET', `${child.url}/metrics`, {})
  const line = res.text.split('\n').find((l) => l.startsWith('knack311_deliveries_total{') && l.includes('outcome="sent"'))
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0
}

const withOutput = (r: Replicas) => (err: Error) => {
  throw new Error(`${err.message}\n--- replica a ---\n${r.a.output().slice(-4000)}\n--- replica b ---\n${r.b.output().slice(-4000)}`)
}

if (!url) {
  t.plan(0, 'replicas on PostgreSQL skipped: KNACK311_TEST_PG is not set (e.g. postgres://postgres@127.0.0.1:5432/test)')
} else {
  t.test('two replicas on one PostgreSQL schema', async (t) => {
    // Teardowns run last-registered first: children die, then the simulators, then the schema.
    const { schema, db, databaseUrl } = await testSchema(t, url)
    const stack = await startStack({
      buildService: false,
      env: {
        DATABASE_URL: databaseUrl,
        LEASE_DURATION: LEASE,
        ESB_TIMEOUT: '2s',
        RETRY_SCHEDULE: '100ms,200ms,400ms,800ms',
        KNACK_RATE_LIMIT: String(RATE_PER_REPLICA),
        WORKER_CONCURRENCY: String(CONCURRENCY)
      }
    })
    t.teardown(() => stack.close())
    const children: ServiceChild[] = []
    t.teardown(() => Promise.all(children.map((c) => c.kill('SIGKILL'))))

    // Started together: the migration advisory lock lets one migrate while the other waits.
    const started = await Promise.allSettled([startServiceChild(stack.env, 60_000), startServiceChild(stack.env, 60_000)])
    for (const s of started) if (s.status === 'fulfilled') children.push(s.value)
    const [a, b] = children
    if (!a || !b) throw (started.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason
    for (const c of [a, b]) {
      await waitFor(async () => (await http('GET', `${c.url}/healthz`, {}).catch(() => ({ status: 0 }))).status === 200, 30_000, `${c.url}/healthz`)
    }
    const r: Replicas = { stack, a, b, db, schema, auth: { authorization: `Bearer ${stack.env.ADMIN_TOKEN ?? ''}` } }

    await t.test('200 duplicate webhooks spread over both replicas for 20 records: exactly 20 ESB messages', async (t) => {
      const acts = Array.from({ length: 20 }, () => activity())
      stack.seed(app, acts)
      const ids = acts.map((x) => x.id)
      const bodies = new Map(ids.map((id) => [id, knackRecord(stack, app, id)]))
      const sends = shuffled(ids.flatMap((id) => Array.from({ length: 10 }, () => id)), 5)
      const headers = { 'x-webhook-token': stack.env.WEBHOOK_SECRET ?? '' }
      const answers = await pool(
        sends.map((id, i) => async () => {
          const to = i % 2 === 0 ? a : b
          const res = await http('POST', `${to.url}/webhooks/knack/${app}`, headers, bodies.get(id))
          return { id, status: res.status, body: res.json<{ status: string; delivery: number }>() }
        }),
        20
      )
      t.equal(answers.filter((x) => x.status === 202).length, 20, 'one 202 per record, across both replicas')
      t.equal(answers.filter((x) => x.status === 200 && x.body.status === 'duplicate').length, 180, 'the other 180 are duplicates')
      for (const id of ids) {
        const named = new Set(answers.filter((x) => x.id === id).map((x) => x.body.delivery))
        t.equal(named.size, 1, `record ${id}: both replicas name the same delivery`)
      }

      await waitAllSent(r, ids, 60_000, 'the 20 deliveries to be sent').catch(withOutput(r))
      await waitForKnackStatus(stack, app, ids, 'SENT', 30_000)
      // Every delivery is final: nothing can send these records again.
      const msgs = esbFor(stack, ids)
      t.equal(msgs.length, 20, 'exactly 20 ESB messages')
      t.equal(new Set(msgs.map((m) => m.values.id)).size, 20, 'one per record')
    })

    await t.test('a sweep started on both replicas at once: each record once, in order per SR, Knack never over 10/s', async (t) => {
      const atds = shuffled(Array.from({ length: 60 }, (_, i) => 40_000 + i), 17)
      const acts: ActivityInput[] = atds.map((atdActivityId, i) => activity({ atdActivityId, srNumber: `26-R-${String(i % 15).padStart(2, '0')}` }))
      stack.seed(app, acts)
      const ids = acts.map((x) => x.id)
      const before = await Promise.all([sentCount(a), sentCount(b)])
      stack.knackSim.resetStats()

      const sweeps = await Promise.all([a, b].map((c) => http('POST', `${c.url}/apps/${app}/sweep`, r.auth)))
      for (const s of sweeps) t.equal(s.status, 200, s.text)
      const summaries = sweeps.map((s) => s.json<{ found: number; queued: number; duplicates: number }>())
      t.equal(summaries.reduce((n, s) => n + s.queued, 0), 60, 'each record queued by exactly one of the two sweeps')

      await waitAllSent(r, ids, 90_000, 'the 60 swept deliveries to be sent').catch(withOutput(r))
      await waitForKnackStatus(stack, app, ids, 'SENT', 30_000)
      const msgs = esbFor(stack, ids)
      t.equal(msgs.length, 60, 'one ESB message per record')
      t.equal(new Set(msgs.map((m) => m.values.id)).size, 60, 'no record twice')

      const atdOf = new Map(acts.map((x) => [x.id, x.atdActivityId]))
      const arrivals = new Map<string, number[]>()
      for (const m of msgs) {
        const sr = m.values.sr_number ?? ''
        arrivals.set(sr, [...(arrivals.get(sr) ?? []), atdOf.get(m.values.id ?? '') ?? -1])
      }
      t.equal(arrivals.size, 15, 'every SR arrived')
      const outOfOrder = [...arrivals].filter(([, list]) => list.some((x, i) => i > 0 && x < (list[i - 1] as number)))
      t.same(outOfOrder, [], 'per SR, ESB arrival order equals atd_activity_id order')

      const after = await Promise.all([sentCount(a), sentCount(b)])
      const delivered = after.map((n, i) => n - (before[i] ?? 0))
      t.ok(delivered.every((n) => n > 0), `both replicas delivered (${delivered.join(' + ')})`)
      const stats = stack.knackSim.stats()
      t.equal(stats.rateLimited, 0, 'Knack never answered 429 with both replicas sweeping')
      t.ok(stats.maxInAnyWindow <= 10, `at most 10 requests in any second from both together (saw ${stats.maxInAnyWindow})`)
    })

    await t.test('one replica SIGKILLed mid-batch: the other finishes its work once the lease runs out', async (t) => {
      stack.esbSim.setLatency(300)
      const acts = Array.from({ length: 32 }, (_, i) => activity({ srNumber: `26-K-${String(i).padStart(2, '0')}` }))
      stack.seed(app, acts)
      const ids = acts.map((x) => x.id)
      const atStart = stack.esbSim.received.length

      const sweep = await http('POST', `${a.url}/apps/${app}/sweep`, r.auth)
      t.equal(sweep.status, 200, sweep.text)
      t.equal(sweep.json<{ queued: number }>().queued, 32, 'all 32 queued on disk')
      await stack.esbSim.waitForReceived(atStart + 8, 60_000).catch(withOutput(r))
      await a.kill('SIGKILL')
      const killedAt = Date.now()
      // What the dead replica (and the live one) held at that moment.
      const { rows: leased } = await db.query<{ record_id: string; lease_until: Date }>(
        `SELECT record_id, lease_until FROM ${schema}.deliveries
         WHERE record_id = ANY($1::text[]) AND lease_until IS NOT NULL AND status IN ('sending', 'esb_accepted')`,
        [ids]
      )
      t.ok(esbFor(stack, ids).length < 32, `killed part-way (${esbFor(stack, ids).length} of 32 at the ESB)`)
      t.ok(leased.length > 0, `${leased.length} deliveries were leased when the replica died`)

      await waitAllSent(r, ids, 60_000, 'every delivery of the batch to be sent by the survivor').catch(withOutput(r))
      await waitForKnackStatus(stack, app, ids, 'SENT', 30_000)

      // A dead replica's rows stay untouched until their lease ends; only then may the survivor
      // take them. So some record leased at the kill was marked SENT only after its lease ended.
      const puts = stack.knackSim.stats().puts
      const lastPut = (id: string) => Math.max(...puts.filter((p) => p.id === id).map((p) => p.at))
      const takenOver = leased.filter((row) => lastPut(row.record_id) >= row.lease_until.getTime())
      t.ok(takenOver.length > 0, `the survivor finished ${takenOver.length} delivery(ies) of the dead replica after their lease (killed at ${new Date(killedAt).toISOString()})`)

      const counts = esbCountsByRecord(stack)
      t.ok(ids.every((id) => (counts.get(id) ?? 0) >= 1), 'every record reached the ESB')
      const msgs = esbFor(stack, ids)
      const duplicates = msgs.length - new Set(msgs.map((m) => m.values.id)).size
      t.ok(duplicates <= CONCURRENCY, `duplicate ESB messages ${duplicates} <= the dead replica's WORKER_CONCURRENCY ${CONCURRENCY}`)
    })
  })
}
