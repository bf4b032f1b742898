// (4) Memory and scale, the service in a child process whose RSS is sampled every 50 ms:
//  - queued: N webhooks accepted by a service whose worker is off, then the service restarted
//    with its worker on and the ESB down, held a few seconds with all N queued while /healthz is
//    probed, to show what the worker's queries cost at that size;
//  - sweep: N ready records swept and delivered (pages of 1,000 must stream, not accumulate),
//    with Knack's limit raised (simulator and KNACK_RATE_LIMIT) and ESB and Knack instant, so the
//    run measures the service rather than the limit; timed at two sizes to show how it grows.
import autocannon from 'autocannon'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { openLedger } from '../src/ledger/open.js'
import { startStack } from '../src/sandbox/stack.js'
import { sampleRss, spawnService, type RssPeak } from './proc.js'
import { readyActivities, webhookBodies } from './records.js'
import { percentile, sleep } from './stats.js'

const MB = 2 ** 20
const PRODUCTION_RETRIES = '30s,2m,10m,30m,1h,2h,4h,8h'

/** The peak split up: the node binary's file-backed pages, and inside the process (at the
 *  probe's own highest-RSS sample) V8's heap and buffers outside it. */
export interface MemoryBreakdown {
  peakRssMB: number
  peakRssKernelMB: number
  anonMB: number
  fileBackedMB: number
  heapTotalMB: number
  heapUsedMB: number
  externalMB: number
}

function probeFlags(dir: string, name = 'mem-probe.json'): { flags: string[]; env: Record<string, string>; read: () => { heapTotal: number; heapUsed: number; external: number } | undefined } {
  const out = join(dir, name)
  return {
    flags: ['--import', './bench/mem-probe.mjs'],
    env: { MEM_PROBE_OUT: out },
    read: () => {
      try {
        return JSON.parse(readFileSync(out, 'utf8')) as { heapTotal: number; heapUsed: number; external: number }
      } catch {
        return undefined
      }
    }
  }
}

function breakdown(peak: RssPeak, probe: { heapTotal: number; heapUsed: number; external: number } | undefined): MemoryBreakdown {
  return {
    peakRssMB: peak.peakSampled / MB,
    peakRssKernelMB: peak.peakKernel / MB,
    anonMB: peak.anonAtPeak / MB,
    fileBackedMB: peak.fileAtPeak / MB,
    heapTotalMB: (probe?.heapTotal ?? 0) / MB,
    heapUsedMB: (probe?.heapUsed ?? 0) / MB,
    externalMB: (probe?.external ?? 0) / MB
  }
}

/** The higher of the two phases' peaks. */
export function queuedPeak(q: QueuedResult): MemoryBreakdown {
  return q.holdMemory.peakRssMB > q.memory.peakRssMB ? q.holdMemory : q.memory
}

export interface QueuedResult {
  /** While the N webhooks were taken in, worker off (nothing drains the queue). */
  memory: MemoryBreakdown
  /** Then a restart with the worker on and the ESB still down, the N sitting queued. */
  holdMemory: MemoryBreakdown
  queued: number
  onDisk: number
  pending: number
  intakeSeconds: number
  intakePerSecond: number
  intakeP99Ms: number
  holdSeconds: number
  /** /healthz every 100 ms during the hold: shows what the worker's queries cost at that size. */
  healthP50Ms: number
  healthP99Ms: number
  healthMaxMs: number
}

/**
 * Queue `n` webhooks over `srs` service requests into a service whose worker is off (the
 * compiled service built as server.ts builds it, bench/service-child.mjs), then restart it as
 * `knack311 serve` with the worker on and the ESB down, and hold `holdMs` with all of them queued.
 * `cpuProfDir`: also profile the intake phase (it is a long intake run).
 */
export async function runQueuedMemory(n: number, srs: number, holdMs: number, cpuProfDir?: string): Promise<QueuedResult> {
  const stack = await startStack({ buildService: false })
  const ledgerPath = join(stack.dir, 'queued.sqlite')
  // WEBHOOK_VERIFY off: the N bodies are synthetic and Knack holds none of them, so with fetch
  // before send the hold phase would turn them dead (404) one Knack read at a time instead of
  // keeping all N queued, which is what this run measures.
  const env = { ...stack.env, DATABASE_URL: `sqlite:${ledgerPath}`, RETRY_SCHEDULE: PRODUCTION_RETRIES, WEBHOOK_VERIFY: 'false' }
  await stack.esbSim.down()
  try {
    // Phase 1: intake only.
    const probe = probeFlags(stack.dir)
    const profile = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []
    const intake = await spawnService({ ...env, ...probe.env }, [...probe.flags, ...profile], { workerOff: true })
    const rss = sampleRss(intake.pid)
    const bodyOf = webhookBodies(stack.appConfig('data-tracker'), 'm', srs)
    let i = 0
    const started = performance.now()
    let run
    try {
      run = await autocannon({
        url: intake.url,
        connections: 32,
        amount: n,
        timeout: 30,
        requests: [
          {
            method: 'POST',
            path: '/webhooks/knack/data-tracker',
            headers: { 'content-type': 'application/json', 'x-webhook-token': stack.env.WEBHOOK_SECRET ?? '' },
            setupRequest: (req) => ({ ...req, body: bodyOf(i++) })
          }
        ]
      })
    } finally {
      await intake.stop()
    }
    const intakeSeconds = (performance.now() - started) / 1000
    const memory = breakdown(rss.stop(), probe.read())

    // Phase 2: the real `serve`, worker on, ESB down, everything queued.
    const holdProbe = probeFlags(stack.dir, 'mem-probe-hold.json')
    const service = await spawnService({ ...env, ...holdProbe.env }, holdProbe.flags)
    const holdRss = sampleRss(service.pid)
    const health: number[] = []
    const holdStarted = performance.now()
    try {
      const holdUntil = Date.now() + holdMs
      while (Date.now() < holdUntil) {
        const t = performance.now()
        const res = await request(`${service.url}/healthz`)
        await res.body.dump()
        health.push(performance.now() - t)
        await sleep(100)
      }
    } finally {
      await service.stop()
    }
    const holdSeconds = (performance.now() - holdStarted) / 1000
    const holdMemory = breakdown(holdRss.stop(), holdProbe.read())

    const ledger = await openLedger(`sqlite:${ledgerPath}`)
    const counts = await ledger.countByStatus()
    await ledger.close()
    return {
      memory,
      holdMemory,
      queued: run.statusCodeStats['202']?.count ?? 0,
      onDisk: Object.values(counts).reduce((a, b) => a + b, 0),
      pending: counts.queued + counts.failed + counts.sending + counts.esb_accepted,
      intakeSeconds,
      intakePerSecond: n / intakeSeconds,
      intakeP99Ms: run.latency.p99,
      holdSeconds,
      healthP50Ms: percentile(health, 50),
      healthP99Ms: percentile(health, 99),
      healthMaxMs: Math.max(...health)
    }
  } finally {
    await stack.close()
  }
}

export interface SweepScaleResult {
  memory: MemoryBreakdown
  records: number
  seconds: number
  recordsPerSecond: number
  sent: number
  rateLimited: number
  knackRate: number
}

export async function runSweepScale(n: number, srs: number, knackRate: number, deadlineMs: number): Promise<SweepScaleResult> {
  const stack = await startStack({ buildService: false, knack: { rateLimit: knackRate } })
  const probe = probeFlags(stack.dir)
  // Inside the try: a service that fails to start must still let the simulators close (else the
  // bench process never exits).
  let service: Awaited<ReturnType<typeof spawnService>> | undefined
  let rss: ReturnType<typeof sampleRss> | undefined
  try {
    service = await spawnService({ ...stack.env, ...probe.env, KNACK_RATE_LIMIT: String(knackRate) }, probe.flags)
    rss = sampleRss(service.pid)
    stack.seed('data-tracker', readyActivities(n, srs, 's'))
    const started = performance.now()
    const res = await request(`${service.url}/apps/data-tracker/sweep?wait=true&timeout=${Math.ceil(deadlineMs / 1000)}s`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.env.ADMIN_TOKEN ?? ''}` },
      headersTimeout: deadlineMs + 10_000,
      bodyTimeout: deadlineMs + 10_000
    })
    const body = (await res.body.json()) as { outcomes?: Record<string, number> }
    const seconds = (performance.now() - started) / 1000
    const peak = rss.stop()
    if (res.statusCode !== 200) throw new Error(`sweep answered ${res.statusCode}`)
    await service.stop()
    return {
      memory: breakdown(peak, probe.read()),
      records: n,
      seconds,
      recordsPerSecond: n / seconds,
      sent: body.outcomes?.sent ?? 0,
      rateLimited: stack.knackSim.stats().rateLimited,
      knackRate
    }
  } finally {
    rss?.stop()
    await service?.stop()
    await stack.close()
  }
}
