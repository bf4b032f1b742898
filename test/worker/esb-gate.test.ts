// The ESB gate: its rules, and the one row shared by processes. Two gates over two handles on the
// same store (a SQLite file; PostgreSQL when KNACK311_TEST_PG is set) stand for two replicas:
// however their reports interleave, each pause and each resume happens once and is announced once,
// and one probe slot is handed out per period.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { pino } from 'pino'
import t from 'tap'
import type { Test } from 'tap'
import { createEvents } from '../../src/events/bus.js'
import type { ServiceEvent } from '../../src/events/types.js'
import { openLedger } from '../../src/ledger/open.js'
import type { EsbGate, Ledger } from '../../src/ledger/types.js'
import { applyReport, takeProbeSlot } from '../../src/worker/esb-gate-rules.js'
import { createSendGate, type SendGate } from '../../src/worker/esb-gate.js'

const T0 = new Date('2026-07-15T14:00:00Z')
const at = (ms: number) => new Date(T0.getTime() + ms)
const RULES = { pauseAfter: 3, probeEveryMs: 30_000 }
const OK: EsbGate = { state: 'ok', since: null, cause: null, lastError: null, endpointFailures: 0, recordFailures: [], probeAt: null, updatedAt: null }

const fold = (reports: Parameters<typeof applyReport>[1][], from = OK): EsbGate =>
  reports.reduce((g, r, i) => applyReport(g, r, RULES, at(i)) ?? g, from)
const endpoint = (error = 'HTTP 503', credentials = false) => ({ kind: 'endpoint' as const, error, credentials })
const record = (deliveryId: number) => ({ kind: 'record' as const, deliveryId, error: 'HTTP 500 env:Client: Internal Error' })
const success = { kind: 'success' as const }

t.test('rules: ESB_PAUSE_AFTER endpoint failures in a row pause; a success in between resets', async (t) => {
  t.equal(fold([endpoint(), endpoint()]).state, 'ok')
  const paused = fold([endpoint(), endpoint(), endpoint('connection refused')])
  t.match(paused, { state: 'paused', cause: 'endpoint', lastError: 'connection refused', endpointFailures: 3 })
  t.same(paused.since, at(2))
  t.same(paused.probeAt, at(2 + RULES.probeEveryMs), 'the first probe one period later')
  t.equal(fold([endpoint(), endpoint(), success, endpoint(), endpoint()]).state, 'ok', 'not in a row')
  t.equal(applyReport(OK, success, RULES, T0), null, 'a success on a clean gate writes nothing')
})

t.test('rules: record faults pause only from ESB_PAUSE_AFTER different deliveries with no success between', async (t) => {
  t.equal(fold([record(1), record(1), record(1), record(1)]).state, 'ok', 'one record faulting again and again')
  t.same(fold([record(1), record(1), record(2)]).recordFailures, [1, 2])
  t.equal(fold([record(1), record(2), success, record(3)]).state, 'ok', 'a success empties the streak')
  t.match(fold([record(1), record(2), record(3)]), { state: 'paused', cause: 'record' })
  t.equal(fold([record(1), endpoint(), record(2), endpoint()]).state, 'ok', 'the two streaks count apart')
})

t.test('rules: 401/403 pause with cause credentials; while paused the cause follows the newest failure; a success resumes', async (t) => {
  const paused = fold([endpoint('HTTP 401', true), endpoint('HTTP 401', true), endpoint('HTTP 401', true)])
  t.equal(paused.cause, 'credentials')
  t.equal(applyReport(paused, record(9), RULES, at(10))?.cause, 'record')
  const resumed = applyReport(paused, success, RULES, at(20))
  t.match(resumed, { state: 'ok', cause: null, endpointFailures: 0, recordFailures: [], probeAt: null, lastError: 'HTTP 401' })
  t.same(resumed?.since, at(20), 'since the resume')
})

t.test('rules: the probe slot is handed out once per period, only while paused', async (t) => {
  t.equal(takeProbeSlot(OK, RULES, T0), null, 'not while ok')
  const paused = fold([endpoint(), endpoint(), endpoint()])
  const due = paused.probeAt ?? T0
  t.equal(takeProbeSlot(paused, RULES, new Date(due.getTime() - 1)), null, 'not before it is due')
  const taken = takeProbeSlot(paused, RULES, due)
  t.same(taken?.probeAt, new Date(due.getTime() + RULES.probeEveryMs))
  t.equal(takeProbeSlot(taken ?? paused, RULES, due), null, 'taken: not again in the same period')
})

interface Replica {
  gate: SendGate
  events: ServiceEvent[]
}

function replica(ledger: Ledger, clock: () => Date): Replica {
  const bus = createEvents()
  const events: ServiceEvent[] = []
  bus.on((e) => void events.push(e))
  return { gate: createSendGate({ ledger, clock, logger: pino({ enabled: false }), events: bus, ...RULES }), events }
}

async function twoReplicas(t: Test, a: Ledger, b: Ledger): Promise<void> {
  let now = T0.getTime()
  const clock = () => new Date(now)
  const [one, two] = [replica(a, clock), replica(b, clock)]
  const count = (type: ServiceEvent['type']) => one.events.filter((e) => e.type === type).length + two.events.filter((e) => e.type === type).length

  for (let cycle = 1; cycle <= 3; cycle++) {
    // Twelve endpoint failures reported at once, interleaved across the two.
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? one : two).gate.report(endpoint(`refused ${i}`))))
    t.equal(count('esb.paused'), cycle, `cycle ${cycle}: paused once, announced once`)
    t.equal((await a.esbGate()).state, 'paused', 'both handles see the pause')
    t.equal((await b.esbGate()).state, 'paused')
    t.equal(results.filter((r) => r.paused).length, 12 - (RULES.pauseAfter - 1), 'every report from the pausing one on says paused')
    t.same([...new Set(results.map((r) => r.endpointFailures))].length, 12, 'each failure counted once across both')

    now += RULES.probeEveryMs
    const probes = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? one : two).gate.takeProbe()))
    t.equal(probes.filter(Boolean).length, 1, 'one probe slot per period across both')

    await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? one : two).gate.report(success)))
    t.equal(count('esb.resumed'), cycle, `cycle ${cycle}: resumed once, announced once`)
    t.equal((await b.esbGate()).state, 'ok')
    now += 1000
  }
}

t.test('two handles on one SQLite file: one transition, one event', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'knack311-gate-'))
  const url = `sqlite:${join(dir, 'ledger.sqlite')}`
  const [a, b] = [await openLedger(url), await openLedger(url)]
  t.teardown(async () => {
    await Promise.all([a.close(), b.close()])
    rmSync(dir, { recursive: true, force: true })
  })
  await twoReplicas(t, a, b)
})

const pgUrl = process.env.KNACK311_TEST_PG
t.test('two handles on PostgreSQL: one transition, one event', { skip: pgUrl ? false : 'KNACK311_TEST_PG is not set: PostgreSQL gate test skipped' }, async (t) => {
  const schema = `gate_${randomBytes(6).toString('hex')}`
  const url = `${pgUrl}${pgUrl?.includes('?') ? '&' : '?'}schema=${schema}`
  const [a, b] = [await openLedger(url), await openLedger(url)]
  t.teardown(async () => {
    await Promise.all([a.close(), b.close()])
    const client = new pg.Client({ connectionString: pgUrl })
    await client.connect()
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await client.end()
  })
  await twoReplicas(t, a, b)
})
