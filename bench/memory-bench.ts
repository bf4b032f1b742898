// (4) Memory and scale, the service in a child process whose RSS is sampled every 50 ms:
//  - queued: N webhooks accepted while the ESB is down (the worker keeps trying the head of
//    each service request and failing), then a hold of a few seconds with the N queued, during
//    which /healthz is probed to show whether the worker's queries at that size stall the loop;
//  - sweep: N ready records swept and delivered (pages of 1,000 must stream, not accumulate),
//    with Knack's limit raised (simulator and KNACK_RATE_LIMIT) and ESB and Knack instant, so the
//    run measures the service rather than the limit; timed at two sizes to show how it grows.
import autocannon from 'autocannon'
import { join } from 'node:path'
import { request } from 'undici'
import { openLedger } from '../src/ledger/open.js'
import { startStack } from '../src/sandbox/stack.js'
import { sampleRss, spawnService } from './proc.js'
import { readyActivities, webhookBodies } from './records.js'
import { percentile, sleep } from './stats.js'

const MB = 2 ** 20
const PRODUCTION_RETRIES = '30s,2m,10m,30m,1h,2h,4h,8h'

export interface QueuedResult {
  queued: number
  onDisk: number
  pending: number
  intakeSeconds: number
  peakRssMB: number
  peakRssKernelMB: number
  /** /healthz while the N deliveries sit queued (the worker's claim and next-due queries run). */
  healthP50Ms: number
  healthP99Ms: number
  healthMaxMs: number
}

export async function runQueuedMemory(n: number, srs: number, holdMs: number): Promise<QueuedResult> {
  const stack = await startStack({ buildService: false })
  const ledgerPath = join(stack.dir, 'queued.sqlite')
  await stack.esbSim.down()
  const service = await spawnService({ ...stack.env, DATABASE_URL: `sqlite:${ledgerPath}`, RETRY_SCHEDULE: PRODUCTION_RETRIES })
  const rss = sampleRss(service.pid)
  try {
    const bodyOf = webhookBodies(stack.appConfig('data-tracker'), 'm', srs)
    let i = 0
    const started = performance.now()
    const run = await autocannon({
      url: service.url,
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
    const intakeSeconds = (performance.now() - started) / 1000
    const health: number[] = []
    const holdUntil = Date.now() + holdMs
    while (Date.now() < holdUntil) {
      const t = performance.now()
      const res = await request(`${service.url}/healthz`)
      await res.body.dump()
      health.push(performance.now() - t)
      await sleep(100)
    }
    const peak = rss.stop()
    await service.stop()
    const ledger = await openLedger(`sqlite:${ledgerPath}`)
    const counts = await ledger.countByStatus()
    await ledger.close()
    return {
      queued: run.statusCodeStats['202']?.count ?? 0,
      onDisk: Object.values(counts).reduce((a, b) => a + b, 0),
      pending: counts.queued + counts.failed + counts.sending + counts.esb_accepted,
      intakeSeconds,
      peakRssMB: peak.peakSampled / MB,
      peakRssKernelMB: peak.peakKernel / MB,
      healthP50Ms: percentile(health, 50),
      healthP99Ms: percentile(health, 99),
      healthMaxMs: Math.max(...health)
    }
  } finally {
    rss.stop()
    await service.stop()
    await stack.close()
  }
}

export interface SweepScaleResult {
  records: number
  seconds: number
  recordsPerSecond: number
  peakRssMB: number
  peakRssKernelMB: number
  sent: number
  rateLimited: number
  knackRate: number
}

export async function runSweepScale(n: number, srs: number, knackRate: number, deadlineMs: number): Promise<SweepScaleResult> {
  const stack = await startStack({ buildService: false, knack: { rateLimit: knackRate } })
  const service = await spawnService({ ...stack.env, KNACK_RATE_LIMIT: String(knackRate) })
  const rss = sampleRss(service.pid)
  try {
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
    return {
      records: n,
      seconds,
      recordsPerSecond: n / seconds,
      peakRssMB: peak.peakSampled / MB,
      peakRssKernelMB: peak.peakKernel / MB,
      sent: body.outcomes?.sent ?? 0,
      rateLimited: stack.knackSim.stats().rateLimited,
      knackRate
    }
  } finally {
    rss.stop()
    await service.stop()
    await stack.close()
  }
}
