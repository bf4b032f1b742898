// POSTs one SOAP message to the ESB over mutual TLS and says what the ESB made of it. Never
// throws for ESB or network trouble: every failure becomes a rejected outcome with a reason.
import type { Logger } from 'pino'
import { Agent, request } from 'undici'
import type { EsbClient, EsbOutcome } from './types.js'
import { httpOutcome } from './http-outcome.js'
import { classifyNetworkError } from './network-error.js'
import { readBounded } from './read-bounded.js'

/** Metrics hook: one call per send, with the HTTP status or a failure label, and its duration. */
export interface EsbObserver {
  request(statusOrError: number | string, seconds: number): void
}

export interface EsbClientOptions {
  /** https URL of the ESB's AcceptKnack service. */
  endpoint: string
  /** PEM client certificate and key presented to the ESB. */
  cert: string
  key: string
  /** PEM CA(s) that sign the ESB's server certificate; absent = the system CAs. */
  ca?: string | undefined
  /** Whole request: connect, send, wait for and read the answer. */
  timeoutMs: number
  logger?: Logger | undefined
  observe?: EsbObserver | undefined
}

/** The ESB's answers are small; more than this is not worth keeping in a reason or the ledger. */
const MAX_BODY_BYTES = 64 * 1024

export function createEsbClient(opts: EsbClientOptions): EsbClient {
  const url = new URL(opts.endpoint)
  // rejectUnauthorized stays at its default (true): the ESB's certificate is always verified.
  const agent = new Agent({
    connect: { cert: opts.cert, key: opts.key, ...(opts.ca ? { ca: opts.ca } : {}), timeout: opts.timeoutMs },
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs
  })
  const log = opts.logger

  async function send(xml: string): Promise<EsbOutcome> {
    const started = process.hrtime.bigint()
    const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9
    try {
      const res = await request(url, {
        dispatcher: agent,
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8' },
        body: Buffer.from(xml, 'utf8'),
        signal: AbortSignal.timeout(opts.timeoutMs)
      })
      const body = await readBounded(res.body, MAX_BODY_BYTES)
      const outcome = httpOutcome(res.statusCode, body)
      opts.observe?.request(res.statusCode, seconds())
      log?.debug({ status: res.statusCode, ms: Math.round(seconds() * 1000), outcome: outcome.kind }, 'ESB answered')
      return outcome
    } catch (err) {
      const failure = classifyNetworkError(err, opts.timeoutMs)
      opts.observe?.request(failure.label, seconds())
      log?.debug({ error: failure.label, ms: Math.round(seconds() * 1000) }, 'ESB request failed')
      return { kind: 'rejected', retryable: failure.retryable, reason: failure.reason }
    }
  }

  return {
    send,
    async close() {
      await agent.close()
    }
  }
}
