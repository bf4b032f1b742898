// (2) Intake: autocannon against POST /webhooks/knack/:app of the real service (a child process)
// with a distinct valid record per request, and against a bare Fastify route (another child) in
// the same run. Afterwards, the deliveries on disk must number exactly the 202s.
import autocannon, { type AutocannonResult } from 'autocannon'
import { join } from 'node:path'
import { openLedger } from '../src/ledger/open.js'
import { startStack } from '../src/sandbox/stack.js'
import { pacedLoad, type PacedLoadResult } from './paced-load.js'
import { freePort, spawnNode, spawnService, waitForHttp, type Child } from './proc.js'
import { webhookBodies } from './records.js'

export interface IntakeScenario {
  /** Roughly how long each measured run lasts (its request count is set from the warm-up's rate). */
  durationS: number
  warmupRequests: number
  /** Upper bound on a measured run's requests. */
  maxRequests: number
  connections: number
  /** Requests per second offered in the paced run (open loop, bench/paced-load.ts) after the saturated one. */
  pacedRate: number
  /** Write a CPU profile of the service child into this directory. */
  cpuProfDir?: string | undefined
}

export interface LoadFigures {
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  requests: number
  errors: number
  timeouts: number
  statusCodes: Record<string, number>
}


export interface IntakeResult {
  connections: number
  bare: LoadFigures
  /** Saturated: every connection sends its next request as soon as the answer comes. */
  service: LoadFigures
  /** Paced: an open-loop load at a fixed offered rate (bench/paced-load.ts; absent in results
   *  from before it existed). */
  paced?: PacedLoadResult
  /** service ÷ bare requests per second. */
  ratio: number
  /** Every 202 the service answered (warm-up included) and the deliveries found on disk after. */
  accepted202: number
  deliveriesOnDisk: number
  allOnDisk: boolean
  /** Where the ledger file was (a real disk, synchronous=FULL). */
  ledgerPath: string
}

function figures(r: AutocannonResult): LoadFigures {
  const statusCodes: Record<string, number> = {}
  for (const [code, s] of Object.entries(r.statusCodeStats)) statusCodes[code] = s.count
  return {
    requestsPerSecond: r.requests.total / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    requests: r.requests.total,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes
  }
}

/** A fixed number of requests (not a duration): autocannon then waits for every answer, so
 *  its count of 202s is exact and can be held against the rows on disk. */
async function load(url: string, token: string, bodyOf: (i: number) => string, counter: { i: number }, amount: number, connections: number) {
  return autocannon({
    url,
    connections,
    pipelining: 1,
    amount,
    // autocannon checks whether `amount` is done only when it samples (every second by default),
    // and its duration is the time to that check: a run that took 8.3 s counted as 9 or 10 s, so
    // the saturated rate came out low and in round steps (5,000/s, 2,481/s). At 10 ms the
    // duration is within 10 ms of the last answer.
    sampleInt: 10,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: '/webhooks/knack/data-tracker',
        headers: { 'content-type': 'application/json', 'x-webhook-token': token },
        setupRequest: (req) => ({ ...req, body: bodyOf(counter.i++) })
      }
    ]
  })
}

/** Warm up with `warmup` requests, then measure about `durationS` seconds' worth at the warm-up's rate. */
async function measure(url: string, token: string, bodyOf: (i: number) => string, counter: { i: number }, s: IntakeScenario) {
  const warm = await load(url, token, bodyOf, counter, s.warmupRequests, s.connections)
  const rate = warm.requests.total / Math.max(0.001, warm.duration)
  const amount = Math.max(s.connections * 10, Math.min(s.maxRequests, Math.round(rate * s.durationS)))
  const run = await load(url, token, bodyOf, counter, amount, s.connections)
  return { warm, run }
}

export async function runIntakeBench(s: IntakeScenario): Promise<IntakeResult> {
  // ESB and Knack answer at once; Knack's limit stays at 10/s (the worker delivers behind intake).
  const stack = await startStack({ buildService: false })
  const ledgerPath = join(stack.dir, 'intake.sqlite')
  const env = { ...stack.env, DATABASE_URL: `sqlite:${ledgerPath}` }
  let service: Awaited<ReturnType<typeof spawnService>> | undefined
  let bare: Child | undefined
  try {
    const nodeFlags = s.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${s.cpuProfDir}`] : []
    service = await spawnService(env, nodeFlags)
    const barePort = await freePort()
    bare = spawnNode('bench/bare-server.ts', [], { env: { PORT: String(barePort) } })
    const bareUrl = `http://127.0.0.1:${barePort}`
    await waitForHttp(`${bareUrl}/healthz`, bare, 60_000)

    const app = stack.appConfig('data-tracker')
    const token = stack.env.WEBHOOK_SECRET ?? ''
    const bodyOf = webhookBodies(app, 'c')
    const counter = { i: 0 }
    // Each warmed up (JIT, connections), then measured alone.
    const { run: bareRun } = await measure(bareUrl, token, bodyOf, counter, s)
    const { warm, run: serviceRun } = await measure(service.url, token, bodyOf, counter, s)
    // Then at an offered rate: the latency a webhook sees at that load, not when 32 clients
    // queue behind each other as fast as they can (the saturated run's tail is mostly that queue).
    const serviceUrl = service.url
    const pacedAt = (seconds: number) =>
      pacedLoad({
        origin: serviceUrl,
        path: '/webhooks/knack/data-tracker',
        headers: { 'content-type': 'application/json', 'x-webhook-token': token },
        body: () => bodyOf(counter.i++),
        rate: s.pacedRate,
        amount: Math.round(s.pacedRate * seconds),
        connections: s.connections,
        timeoutMs: 10_000,
        sendForMs: seconds * 1000 * 1.5
      })
    // One second to warm the paced client's own connections and code (its first requests would
    // otherwise measure the bench's JIT), then the measured run.
    const pacedWarm = await pacedAt(1)
    const paced = await pacedAt(s.durationS)

    await service.stop()
    const ledger = await openLedger(`sqlite:${ledgerPath}`)
    const counts = await ledger.countByStatus()
    await ledger.close()
    const deliveriesOnDisk = Object.values(counts).reduce((a, b) => a + b, 0)
    const accepted202 = [warm, serviceRun].reduce((sum, r) => sum + (r.statusCodeStats['202']?.count ?? 0), 0) + (pacedWarm.statusCodes['202'] ?? 0) + (paced.statusCodes['202'] ?? 0)
    const b = figures(bareRun)
    const sv = figures(serviceRun)
    return {
      connections: s.connections,
      bare: b,
      service: sv,
      paced,
      ratio: sv.requestsPerSecond / b.requestsPerSecond,
      accepted202,
      deliveriesOnDisk,
      allOnDisk: accepted202 === deliveriesOnDisk,
      ledgerPath
    }
  } finally {
    await Promise.allSettled([service?.stop(), bare?.stop()])
    await stack.close()
  }
}
