// (2) Intake: autocannon against POST /webhooks/knack/:app of the real service (a child process)
// with a distinct valid record per request, and against a bare Fastify route (another child) in
// the same run. Afterwards, the deliveries on disk must number exactly the 202s.
import autocannon, { type AutocannonResult } from 'autocannon'
import { join } from 'node:path'
import { openLedger } from '../src/ledger/open.js'
import { startStack } from '../src/sandbox/stack.js'
import { freePort, spawnNode, spawnService, waitForHttp, type Child } from './proc.js'
import { webhookBodies } from './records.js'

export interface IntakeScenario {
  durationS: number
  warmupS: number
  connections: number
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
  durationS: number
  bare: LoadFigures
  service: LoadFigures
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

async function load(url: string, token: string, bodyOf: (i: number) => string, counter: { i: number }, durationS: number, connections: number) {
  return autocannon({
    url,
    connections,
    pipelining: 1,
    duration: durationS,
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
    // Warm both up (JIT, connections), then measure each alone.
    await load(bareUrl, token, bodyOf, counter, s.warmupS, s.connections)
    const warm = await load(service.url, token, bodyOf, counter, s.warmupS, s.connections)
    const bareRun = await load(bareUrl, token, bodyOf, counter, s.durationS, s.connections)
    const serviceRun = await load(service.url, token, bodyOf, counter, s.durationS, s.connections)

    await service.stop()
    const ledger = await openLedger(`sqlite:${ledgerPath}`)
    const counts = await ledger.countByStatus()
    await ledger.close()
    const deliveriesOnDisk = Object.values(counts).reduce((a, b) => a + b, 0)
    const accepted202 = (warm.statusCodeStats['202']?.count ?? 0) + (serviceRun.statusCodeStats['202']?.count ?? 0)
    const b = figures(bareRun)
    const sv = figures(serviceRun)
    return {
      connections: s.connections,
      durationS: s.durationS,
      bare: b,
      service: sv,
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
