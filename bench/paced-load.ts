// An open-loop load at a fixed rate, for "p99 at 3,000 webhooks/s": request i is due at
// start + i ÷ rate and is sent when due whatever the answers before it did, and its latency runs
// from when it was due — so a service (or a client) that falls behind shows it in the figures
// instead of slowing the load down (no coordinated omission). autocannon's overallRate is not
// that: each connection sends its share of a second's budget as fast as it can, then idles until
// the next second, so 3,000/s arrives as near-saturated bursts.
import { Pool } from 'undici'
import { percentile } from './stats.js'
import type { LoadFigures } from './intake-bench.js'

export interface PacedLoadOptions {
  /** http://127.0.0.1:port */
  origin: string
  path: string
  headers: Record<string, string>
  body: () => string
  /** Requests per second to offer. */
  rate: number
  /** How many requests in all (the run lasts amount ÷ rate seconds). */
  amount: number
  /** Keep-alive connections; requests due while all are busy wait in the pool (and that counts). */
  connections: number
  timeoutMs: number
  /** Stop sending once this long has passed (a service that cannot keep up would otherwise queue
   *  the rest for minutes); what was sent is still awaited and counted. */
  sendForMs: number
}

/** The saturated run's figures, where requestsPerSecond is requests answered ÷ seconds from the
 *  first due time to the last answer, and requests is what was sent (all of amount unless
 *  sendForMs ran out: then the service could not keep up). */
export interface PacedLoadResult extends LoadFigures {
  offeredPerSecond: number
  /** How late the bench itself sent its latest request (its own lag, included in the latencies). */
  maxSendLagMs: number
  /** p99 from when the bench actually handed each request to its client, leaving out the bench's
   *  own lag (informational; absent in results from before it existed). */
  p99FromSendMs?: number
}

export async function pacedLoad(o: PacedLoadOptions): Promise<PacedLoadResult> {
  const pool = new Pool(o.origin, { connections: o.connections, pipelining: 1 })
  const latencies: number[] = new Array<number>(o.amount).fill(0)
  const fromSend: number[] = new Array<number>(o.amount).fill(0)
  const statusCodes: Record<string, number> = {}
  let errors = 0
  let timeouts = 0
  let sent = 0
  let answered = 0
  let stopped = false
  let maxSendLagMs = 0
  const start = performance.now()
  const dueAt = (i: number) => start + (i * 1000) / o.rate
  try {
    await new Promise<void>((resolve) => {
      const fire = (i: number) => {
        const firedAt = performance.now()
        maxSendLagMs = Math.max(maxSendLagMs, firedAt - dueAt(i))
        pool
          .request({ method: 'POST', path: o.path, headers: o.headers, body: o.body(), headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs })
          .then(async (res) => {
            await res.body.dump()
            statusCodes[String(res.statusCode)] = (statusCodes[String(res.statusCode)] ?? 0) + 1
          })
          .catch((err: unknown) => {
            if ((err as { code?: string }).code?.includes('TIMEOUT')) timeouts++
            else errors++
          })
          .finally(() => {
            const answeredAt = performance.now()
            latencies[i] = answeredAt - dueAt(i)
            fromSend[i] = answeredAt - firedAt
            if (++answered === sent && stopped) resolve()
          })
      }
      // Every millisecond or so, send all that have come due; bounded by amount and sendForMs.
      const tick = () => {
        const elapsed = performance.now() - start
        const due = Math.min(o.amount, Math.floor((elapsed * o.rate) / 1000) + 1)
        while (sent < due) fire(sent++)
        if (sent < o.amount && elapsed < o.sendForMs) {
          setTimeout(tick, 1)
        } else {
          stopped = true
          if (answered === sent) resolve()
        }
      }
      tick()
    })
  } finally {
    await pool.close()
  }
  const seconds = (performance.now() - start) / 1000
  const measured = latencies.slice(0, sent)
  return {
    offeredPerSecond: o.rate,
    requestsPerSecond: answered / seconds,
    p50Ms: percentile(measured, 50),
    p99Ms: percentile(measured, 99),
    maxMs: Math.max(...measured),
    requests: sent,
    errors,
    timeouts,
    statusCodes,
    maxSendLagMs,
    p99FromSendMs: percentile(fromSend.slice(0, sent), 99)
  }
}
