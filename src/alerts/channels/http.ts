// Outbound HTTP for the webhook channels (Slack, Teams, the JSON webhook): one undici Agent,
// bounded time and answer size, and failures that never repeat the URL (it is the credential).
import { Agent, request } from 'undici'
import { readBounded } from '../../clients/esb/read-bounded.js'
import { channelFailure } from '../../errors.js'

export interface HttpAnswer {
  status: number
  body: string
  retryAfter: string | undefined
}

export interface HttpPoster {
  /** POST `body` as JSON. Network trouble throws ALERT_CHANNEL_FAILED (retryable). */
  postJson(url: string, body: unknown, headers?: Record<string, string>): Promise<HttpAnswer>
  close(): Promise<void>
}

/** Answers are a word ("ok") or a short error; more is not worth reading. */
const MAX_ANSWER_BYTES = 16 * 1024

export function createHttpPoster(opts: { timeoutMs: number }): HttpPoster {
  // TLS verification stays on (undici's default): a webhook URL is only ever sent to its real host.
  const agent = new Agent({ connect: { timeout: opts.timeoutMs }, headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs })
  return {
    async postJson(url, body, headers = {}) {
      try {
        const res = await request(url, {
          dispatcher: agent,
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'knack311-alerts', ...headers },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(opts.timeoutMs)
        })
        const text = await readBounded(res.body, MAX_ANSWER_BYTES)
        const retryAfter = res.headers['retry-after']
        return { status: res.statusCode, body: text, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter }
      } catch (err) {
        throw channelFailure(networkReason(err, opts.timeoutMs), { retryable: true })
      }
    },
    async close() {
      // The sender has drained (bounded) by now: whatever still hangs is abandoned, not waited
      // for — its lease ends and the next process sends it.
      await agent.destroy()
    }
  }
}

/** 2xx is taken; a refused payload (400, 413, 422) is not retried; anything else is, honouring
 *  Retry-After. `what` names the channel in the message. */
export function checkAnswer(what: string, answer: HttpAnswer): void {
  if (answer.status >= 200 && answer.status < 300) return
  const said = oneLine(answer.body).slice(0, 200)
  const message = `${what} answered HTTP ${answer.status}${said ? ` ${said}` : ''}`
  const refused = answer.status === 400 || answer.status === 413 || answer.status === 422
  throw channelFailure(message, { retryable: !refused, retryAfterMs: retryAfterMs(answer.retryAfter) })
}

function retryAfterMs(header: string | undefined): number | undefined {
  if (!header) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(header)
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined
}

const NAMED: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'connection closed before an answer'
}
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT'])

/** Codes only: undici's messages can hold the request's URL. */
function networkReason(err: unknown, timeoutMs: number): string {
  const codes = errorCodes(err)
  if ((err instanceof Error && err.name === 'TimeoutError') || codes.some((c) => TIMEOUTS.has(c))) return `no answer within ${timeoutMs} ms`
  for (const c of codes) if (NAMED[c]) return `${NAMED[c]} (${c})`
  const tls = codes.find((c) => c.startsWith('ERR_TLS') || c.startsWith('ERR_SSL') || /CERT|SELF_SIGNED|UNABLE_TO/.test(c))
  if (tls) return `TLS failed (${tls})`
  return `request failed (${codes[0] ?? (err instanceof Error ? err.name : 'error')})`
}

function errorCodes(err: unknown, depth = 0): string[] {
  if (depth > 5 || err === null || typeof err !== 'object') return []
  const code = (err as { code?: unknown }).code
  const nested = [(err as { cause?: unknown }).cause, ...(err instanceof AggregateError ? err.errors : [])]
  return [...(typeof code === 'string' ? [code] : []), ...nested.flatMap((e) => errorCodes(e, depth + 1))]
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}
