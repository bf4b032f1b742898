// POSTs one SOAP message to the ESB and says what the ESB made of it and whose fault a failure
// is. The service proves itself with a client certificate (mutual TLS), HTTP Basic credentials,
// or both (ESB_AUTH). Endpoint trouble that may clear at once (another gateway node, a refused
// connection) gets a few quick retries; a time-out after the body went out is reported as an
// unknown outcome, never retried here. Never throws for ESB or network trouble.
import { Readable } from 'node:stream'
import type { Logger } from 'pino'
import { Agent, request } from 'undici'
import type { EsbAuthMode } from '../../config/types.js'
import type { Events } from '../../events/types.js'
import { basicAuthorization } from './basic-auth.js'
import { httpOutcome, type HttpVerdict } from './http-outcome.js'
import { classifyNetworkError } from './network-error.js'
import { DEFAULT_QUICK_RETRY, quickRetryDelay, type QuickRetryPolicy } from './quick-retry.js'
import { readBounded } from './read-bounded.js'
import type { TlsTexts } from './tls-material.js'
import { createTlsRotation } from './tls-rotation.js'
import type { EsbClient, EsbOutcome } from './types.js'

/** Metrics hook: one call per HTTP try, with the HTTP status or a failure label, and its duration. */
export interface EsbObserver {
  request(statusOrError: number | string, seconds: number): void
}

export interface EsbClientOptions {
  /** https URL of the ESB (AcceptKnack, or the gateway's /ws/rest/v1/knack/submitKnack/). */
  endpoint: string
  /** Default mtls. */
  auth?: EsbAuthMode | undefined
  /** PEM client certificate and key presented to the ESB (mtls, mtls+basic). */
  cert?: string | undefined
  key?: string | undefined
  /** PEM CA(s) that sign the ESB's server certificate; absent = the system CAs. */
  ca?: string | undefined
  /** Where cert, key and ca came from: polled for replacements when given. */
  certPath?: string | undefined
  keyPath?: string | undefined
  caPath?: string | undefined
  /** How often the files are looked at; default 5 s, 0 = never. */
  certPollMs?: number | undefined
  /** HTTP Basic credentials (basic, mtls+basic). */
  username?: string | undefined
  password?: string | undefined
  /** One whole send, quick retries included: connect, send, wait for and read the answer. */
  timeoutMs: number
  quickRetry?: QuickRetryPolicy | undefined
  /** For the retry jitter; Math.random by default. */
  random?: (() => number) | undefined
  clock?: (() => Date) | undefined
  logger?: Logger | undefined
  observe?: EsbObserver | undefined
  /** certificate.replaced / certificate.refused go here. */
  events?: Events | undefined
}

/** The ESB's answers are small; more than this is not worth keeping in a reason or the ledger. */
const MAX_BODY_BYTES = 64 * 1024
const DEFAULT_CERT_POLL_MS = 5000

/** One HTTP try: an answer, or an endpoint failure and whether it is worth a quick retry. */
type TryResult =
  | Exclude<HttpVerdict, { kind: 'endpoint' }>
  | (Omit<Extract<EsbOutcome, { kind: 'endpoint' }>, 'tries'> & { transient: boolean })

export function createEsbClient(opts: EsbClientOptions): EsbClient {
  const url = new URL(opts.endpoint)
  const auth = opts.auth ?? 'mtls'
  const useCert = auth !== 'basic'
  const policy = opts.quickRetry ?? DEFAULT_QUICK_RETRY
  const random = opts.random ?? Math.random
  const clock = opts.clock ?? (() => new Date())
  const log = opts.logger
  const authorization = auth === 'mtls' ? undefined : basicAuthorization(opts.username ?? '', opts.password ?? '')

  const initial: TlsTexts = { ...(useCert ? { cert: opts.cert ?? '', key: opts.key ?? '' } : {}), ...(opts.ca !== undefined ? { ca: opts.ca } : {}) }
  const tls = createTlsRotation({
    paths: {
      ...(useCert && opts.certPath !== undefined ? { cert: opts.certPath, key: opts.keyPath } : {}),
      ...(opts.ca !== undefined && opts.caPath !== undefined ? { ca: opts.caPath } : {})
    },
    initial,
    clientCertificate: useCert,
    pollMs: opts.certPollMs ?? DEFAULT_CERT_POLL_MS,
    // rejectUnauthorized stays at its default (true): the ESB's certificate is always verified.
    makeAgent: (texts) =>
      new Agent({
        connect: { ...(texts.cert !== undefined ? { cert: texts.cert, key: texts.key } : {}), ...(texts.ca !== undefined ? { ca: texts.ca } : {}), timeout: opts.timeoutMs },
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs
      }),
    clock,
    logger: log,
    events: opts.events
  })

  async function once(payload: Buffer, timeoutMs: number): Promise<TryResult> {
    const started = process.hrtime.bigint()
    const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9
    // Set once undici has written the whole body to the connection ('end' follows the last
    // 'data', which undici writes to the socket): from then on a time-out leaves the outcome
    // unknown (the ESB may have processed it). A refused connect or TLS handshake never gets here.
    let sent = false
    const body = Readable.from([payload], { objectMode: false })
    body.once('end', () => {
      sent = true
    })
    try {
      const res = await request(url, {
        dispatcher: tls.agent(),
        method: 'POST',
        headers: {
          'content-type': 'text/xml; charset=utf-8',
          'content-length': String(payload.length),
          ...(authorization ? { authorization } : {})
        },
        body,
        signal: AbortSignal.timeout(timeoutMs)
      })
      const text = await readBounded(res.body, MAX_BODY_BYTES)
      const verdict = httpOutcome(res.statusCode, text, res.statusText)
      opts.observe?.request(res.statusCode, seconds())
      log?.debug({ status: res.statusCode, ms: Math.round(seconds() * 1000), outcome: verdict.kind }, 'ESB answered')
      if (verdict.kind !== 'endpoint') return verdict
      const transient = verdict.status === 404 || verdict.status === 408 || verdict.status === 425 || verdict.status === 429 || verdict.status >= 500
      return { ...verdict, unknownOutcome: false, transient }
    } catch (err) {
      const failure = classifyNetworkError(err, opts.timeoutMs)
      const unknownOutcome = sent && failure.label === 'timeout'
      opts.observe?.request(failure.label, seconds())
      log?.debug({ error: failure.label, ms: Math.round(seconds() * 1000), sent }, 'ESB request failed')
      return {
        kind: 'endpoint',
        label: failure.label,
        reason: unknownOutcome
          ? `${failure.reason} after the message was sent (the ESB may have processed it)`
          : failure.label === 'timeout'
            ? `${failure.reason} before the message was sent`
            : failure.reason,
        credentials: failure.credentials,
        unknownOutcome,
        transient: failure.transient
      }
    }
  }

  async function send(xml: string): Promise<EsbOutcome> {
    const payload = Buffer.from(xml, 'utf8')
    const started = Date.now()
    for (let tries = 1; ; tries++) {
      const elapsed = Date.now() - started
      const result = await once(payload, Math.max(1, opts.timeoutMs - elapsed))
      if (result.kind !== 'endpoint') return { ...result, tries }
      const { transient, ...failure } = result
      const delay = transient ? quickRetryDelay(policy, tries + 1, Date.now() - started, random) : undefined
      // A retry must also fit in what is left of ESB_TIMEOUT (the lease is sized for one of those).
      if (delay === undefined || Date.now() - started + delay >= opts.timeoutMs) {
        return { ...failure, reason: tries > 1 ? `${failure.reason} (${tries} tries)` : failure.reason, tries }
      }
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }

  return {
    send,
    certificate: () => tls.status(),
    close: () => tls.close()
  }
}
