// (1) Sweep: today's sequential algorithm (in a child process, on its own simulators) against the
// service's sweep (POST /apps/:app/sweep?wait=true), on N ready records over S service requests,
// Knack at `knackLatencyMs` and `knackRate` requests/s, the ESB at `esbLatencyMs`.
import { readyActivities } from './records.js'
import { request } from 'undici'
import { spawnNode, spawnService } from './proc.js'
import { startStack } from '../src/sandbox/stack.js'
import { steadyShare, type SteadyShare } from './stats.js'
import type { KnackSimulatorOptions } from '../src/sandbox/knack-simulator.js'

export interface SweepScenario {
  n: number
  srs: number
  /** Knack's whole latency per request: the network leg, then Knack's work. */
  knackLatencyMs: number
  /** The one-way network leg before Knack counts a request (mean), part of knackLatencyMs. */
  knackNetworkMs?: number
  /** Each leg varies by ± this fraction (seeded). */
  knackJitter?: number
  knackSeed?: number
  knackRate: number
  esbLatencyMs: number
  deadlineMs: number
}

export interface SweepSide {
  records: number
  seconds: number
  recordsPerSecond: number
  /** Every request Knack saw (the view read(s), the PUTs, any 429s). */
  knackRequests: number
  /** knackRequests ÷ knackRate: the least time Knack's limit allows for this work. */
  boundSeconds: number
  boundRecordsPerSecond: number
  /** boundSeconds ÷ seconds: the whole sweep, its fixed start and end included. */
  fractionOfBound: number
  /** The share of Knack's limit in steady state, from when Knack counted each request
   *  (bench/stats.ts steadyShare: the first two windows left out). Absent where the arrivals
   *  are not known (the sequential script's child; results from before it existed). */
  steady?: SteadyShare
  rateLimited: number
  maxInAnyWindow: number
  esbReceived: number
  markedSent: number
  complete: boolean
}

function side(s: SweepScenario, ms: number, sim: { requests: number; rateLimited: number; maxInAnyWindow: number; arrivals?: Array<{ at: number }> }, esbReceived: number, markedSent: number): SweepSide {
  const seconds = ms / 1000
  const boundSeconds = sim.requests / s.knackRate
  // One app per sweep's simulator, so every arrival is this sweep's.
  const steady = sim.arrivals ? steadyShare(sim.arrivals.map((a) => a.at), s.knackRate) : undefined
  return {
    records: s.n,
    seconds,
    recordsPerSecond: s.n / seconds,
    knackRequests: sim.requests,
    boundSeconds,
    boundRecordsPerSecond: s.n / boundSeconds,
    fractionOfBound: boundSeconds / seconds,
    rateLimited: sim.rateLimited,
    maxInAnyWindow: sim.maxInAnyWindow,
    esbReceived,
    markedSent,
    complete: esbReceived === s.n && markedSent === s.n,
    ...(steady ? { steady } : {})
  }
}

/** The Knack simulator's options for a scenario. */
export function knackOptions(s: SweepScenario): KnackSimulatorOptions {
  return {
    latencyMs: s.knackLatencyMs,
    rateLimit: s.knackRate,
    ...(s.knackNetworkMs === undefined ? {} : { networkMs: s.knackNetworkMs }),
    ...(s.knackJitter === undefined ? {} : { jitter: s.knackJitter }),
    ...(s.knackSeed === undefined ? {} : { seed: s.knackSeed })
  }
}

/** Starts today's algorithm in a child process; resolves when it has finished. */
export function startSequentialScript(s: SweepScenario): Promise<SweepSide> {
  let out = ''
  const child = spawnNode('bench/sequential-child.ts', [JSON.stringify(s)], { env: {}, onStdout: (d) => (out += d) })
  const killer = setTimeout(() => void child.stop(2000), s.deadlineMs + 30_000)
  return child.exited.then((code) => {
    clearTimeout(killer)
    const line = out.split('\n').find((l) => l.startsWith('RESULT '))
    if (code !== 0 || !line) throw new Error(`sequential script child failed (exit ${code}): ${child.stderr().slice(-2000)}`)
    const r = JSON.parse(line.slice('RESULT '.length)) as { ms: number; simRequests: number; simRateLimited: number; maxInAnyWindow: number; esbReceived: number; markedSent: number }
    return side(s, r.ms, { requests: r.simRequests, rateLimited: r.simRateLimited, maxInAnyWindow: r.maxInAnyWindow }, r.esbReceived, r.markedSent)
  })
}

/** Today's gateway in front of the ESB simulator (reference/esb-today.md): a seeded share of
 *  requests answered 404 No such path, at once (a gateway node without the listener). */
export interface GatewayFaults {
  notFound: number
  seed: number
}

/** The service's sweep with the service in a child process (the compiled build, `knack311 serve`)
 *  and the simulators in this one. Knack counts a request when the simulator's event loop gets to
 *  it; with the service's own work (SQLite commits, message building) on the same loop, that
 *  moment would trail the write by the service's pauses, which no real network adds. */
export async function runServiceSweepInChild(s: SweepScenario): Promise<SweepSide> {
  const stack = await startStack({ buildService: false, knack: knackOptions(s), esbLatencyMs: s.esbLatencyMs })
  const service = await spawnService({ ...stack.env, KNACK_RATE_LIMIT: String(s.knackRate) })
  try {
    const app = stack.appConfig('data-tracker')
    stack.seed('data-tracker', readyActivities(s.n, s.srs, 'b'))
    const started = performance.now()
    const res = await request(`${service.url}/apps/data-tracker/sweep?wait=true&timeout=${Math.ceil(s.deadlineMs / 1000)}s`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.env.ADMIN_TOKEN ?? ''}` },
      headersTimeout: s.deadlineMs + 10_000,
      bodyTimeout: s.deadlineMs + 10_000
    })
    const text = await res.body.text()
    const ms = performance.now() - started
    if (res.statusCode !== 200) throw new Error(`sweep answered ${res.statusCode}: ${text}`)
    const markedSent = stack.knackSim.records(app.credentials.appId, app.obj).filter((r) => r[app.fields.esb_status] === app.statuses.sent).length
    return side(s, ms, stack.knackSim.stats(), stack.esbSim.received.length, markedSent)
  } finally {
    await service.stop()
    await stack.close()
  }
}

/** The service's sweep, in this process (it does ~10 requests/s: it needs no core of its own). */
export async function runServiceSweep(s: SweepScenario, gateway?: GatewayFaults): Promise<SweepSide & { notFoundAnswers: number; dead: number }> {
  const stack = await startStack({
    knack: knackOptions(s),
    esbLatencyMs: s.esbLatencyMs,
    ...(gateway ? { esb: { flaky: { notFound: gateway.notFound, seed: gateway.seed } }, esbPath: 'gateway' as const } : {}),
    env: { KNACK_RATE_LIMIT: String(s.knackRate) }
  })
  try {
    const app = stack.appConfig('data-tracker')
    stack.seed('data-tracker', readyActivities(s.n, s.srs, 'b'))
    const service = stack.app
    if (!service) throw new Error('no service')
    const started = performance.now()
    const res = await service.inject({
      method: 'POST',
      url: `/apps/data-tracker/sweep?wait=true&timeout=${Math.ceil(s.deadlineMs / 1000)}s`,
      headers: { authorization: `Bearer ${stack.env.ADMIN_TOKEN ?? ''}` }
    })
    const ms = performance.now() - started
    if (res.statusCode !== 200) throw new Error(`sweep answered ${res.statusCode}: ${res.body}`)
    const markedSent = stack.knackSim.records(app.credentials.appId, app.obj).filter((r) => r[app.fields.esb_status] === app.statuses.sent).length
    const dead = (await stack.deps?.ledger.countByStatus())?.dead ?? 0
    return { ...side(s, ms, stack.knackSim.stats(), stack.esbSim.received.length, markedSent), notFoundAnswers: stack.esbSim.stats.notFound, dead }
  } finally {
    await stack.close()
  }
}
