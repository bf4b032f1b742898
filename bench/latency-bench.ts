// (3) Latency: webhook answered → message at the ESB, one webhook at a time (the next is sent
// once the previous reached the ESB), the service in a child process, ESB and Knack instant.
// Knack's limit is raised for this run (simulator and KNACK_RATE_LIMIT): at 10/s the Knack PUTs
// would back up behind one another and fill the worker's slots, which measures the limit, not
// the pipeline (the sweep bench measures the limit).
import { request } from 'undici'
import { startStack } from '../src/sandbox/stack.js'
import { spawnService } from './proc.js'
import type { KnackRecord } from '../src/clients/knack/types.js'
import { webhookBodies } from './records.js'
import { percentile, until } from './stats.js'

export interface LatencyScenario {
  webhooks: number
  knackRate: number
}

export interface LatencyResult {
  webhooks: number
  delivered: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  /** Webhook request → its 202, for comparison. */
  answerP50Ms: number
  answerP99Ms: number
  knackRate: number
}

export async function runLatencyBench(s: LatencyScenario): Promise<LatencyResult> {
  const stack = await startStack({ buildService: false, knack: { rateLimit: s.knackRate } })
  const service = await spawnService({ ...stack.env, KNACK_RATE_LIMIT: String(s.knackRate) })
  try {
    const app = stack.appConfig('data-tracker')
    const bodyOf = webhookBodies(app, 'l')
    const toEsb: number[] = []
    const answer: number[] = []
    for (let i = 0; i < s.webhooks; i++) {
      const body = bodyOf(i)
      const record = JSON.parse(body) as KnackRecord
      const id = record.id
      // Knack holds the record, as it would when its Flow fires: the worker reads it back before
      // sending (WEBHOOK_VERIFY), so this latency includes that one Knack read.
      stack.knackSim.seed(app.credentials.appId, app.obj, [record])
      const sentAt = Date.now()
      const res = await request(`${service.url}/webhooks/knack/data-tracker`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-webhook-token': stack.env.WEBHOOK_SECRET ?? '' },
        body
      })
      await res.body.dump()
      const answeredAt = Date.now()
      if (res.statusCode !== 202) throw new Error(`webhook ${i} answered ${res.statusCode}`)
      answer.push(answeredAt - sentAt)
      let at: number | undefined
      await until(() => {
        at = stack.esbSim.received.find((m) => m.values.id === id)?.at.getTime()
        return at !== undefined
      }, 10_000, 1)
      if (at !== undefined) toEsb.push(at - answeredAt)
    }
    return {
      webhooks: s.webhooks,
      delivered: toEsb.length,
      p50Ms: percentile(toEsb, 50),
      p99Ms: percentile(toEsb, 99),
      maxMs: Math.max(...toEsb),
      answerP50Ms: percentile(answer, 50),
      answerP99Ms: percentile(answer, 99),
      knackRate: s.knackRate
    }
  } finally {
    await service.stop()
    await stack.close()
  }
}
