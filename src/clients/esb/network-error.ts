// Names what went wrong when no HTTP answer came back. All of it is the endpoint's trouble, never
// the record's. Refused or reset connections may clear within milliseconds (another gateway node);
// certificate and key problems are configuration, and a time-out already took ESB_TIMEOUT: those
// are not worth a quick retry inside the attempt.

export interface NetworkFailure {
  /** Short label for metrics, e.g. "timeout", "connection_refused", "tls_untrusted". */
  label: string
  /** Worth a quick retry within the same attempt (the next connection may reach a healthy node). */
  transient: boolean
  /** The ESB refused our client certificate: a credentials problem. */
  credentials: boolean
  /** One line for the delivery's reason. Never includes key material (OpenSSL codes only). */
  reason: string
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'])

/** Node's X.509 verification codes for a server certificate we do not trust. */
const UNTRUSTED_CERT =
  /^(ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE|CERT_[A-Z_]+|[A-Z_]*SELF_SIGNED[A-Z_]*|UNABLE_TO_(GET|VERIFY|DECRYPT|DECODE)_[A-Z_]+|PATH_LENGTH_EXCEEDED)$/

/** TLS alerts the ESB sends when it does not accept our client certificate. */
const CLIENT_CERT_REFUSED = /^ERR_SSL_.*ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_[A-Z_]+|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED|DECRYPT_ERROR)$/

export function classifyNetworkError(err: unknown, timeoutMs: number): NetworkFailure {
  const codes = errorCodes(err)
  const has = (code: string): boolean => codes.includes(code)

  if (has('UND_ERR_CONNECT_TIMEOUT')) {
    return { label: 'connect_timeout', transient: false, credentials: false, reason: `timeout connecting to the ESB after ${timeoutMs} ms` }
  }
  if (isTimeout(err) || codes.some((c) => TIMEOUT_CODES.has(c))) {
    return { label: 'timeout', transient: false, credentials: false, reason: `timeout after ${timeoutMs} ms` }
  }
  const untrusted = codes.find((c) => UNTRUSTED_CERT.test(c))
  if (untrusted) return { label: 'tls_untrusted', transient: false, credentials: false, reason: `ESB certificate not trusted: ${untrusted}` }
  const refused = codes.find((c) => CLIENT_CERT_REFUSED.test(c))
  if (refused) return { label: 'tls_refused', transient: false, credentials: true, reason: `ESB refused the client certificate: ${refused}` }
  if (has('ERR_SSL_WRONG_VERSION_NUMBER')) {
    return { label: 'tls', transient: false, credentials: false, reason: 'TLS handshake failed: ERR_SSL_WRONG_VERSION_NUMBER (is ESB_ENDPOINT plain HTTP?)' }
  }
  const badKey = codes.find((c) => c.startsWith('ERR_OSSL_'))
  if (badKey) return { label: 'tls_config', transient: false, credentials: false, reason: `client certificate or key unusable: ${badKey}` }
  if (has('ECONNREFUSED')) return { label: 'connection_refused', transient: true, credentials: false, reason: 'connection refused' }
  if (has('ECONNRESET') || has('EPIPE')) return { label: 'connection_reset', transient: true, credentials: false, reason: 'connection reset' }
  if (has('UND_ERR_SOCKET')) {
    // A server that refuses our certificate after a TLS 1.3 handshake often just closes the
    // socket, which looks exactly like this; say so, but treat it as transient (it may be).
    const closed = /other side closed/.test(messageOf(err))
    const reason = closed
      ? 'connection closed by the ESB before it answered (if this persists, check that it accepts the client certificate)'
      : `socket error: ${oneLine(messageOf(err))}`
    return { label: 'socket', transient: true, credentials: false, reason }
  }
  if (has('ENOTFOUND') || has('EAI_AGAIN')) return { label: 'dns', transient: true, credentials: false, reason: 'ESB host not found' }
  if (has('EHOSTUNREACH') || has('ENETUNREACH')) return { label: 'unreachable', transient: true, credentials: false, reason: 'ESB host unreachable' }
  const first = codes[0]
  const sslCode = codes.find((c) => c.startsWith('ERR_SSL_'))
  if (sslCode) return { label: 'tls', transient: true, credentials: false, reason: `TLS error: ${sslCode}` }
  return {
    label: 'error',
    transient: true,
    credentials: false,
    reason: `ESB request failed: ${first ? `${first} ` : ''}${oneLine(messageOf(err))}`.trim()
  }
}

/** The `code` of the error and of everything it wraps (cause chain, AggregateError members). */
function errorCodes(err: unknown, depth = 0): string[] {
  if (depth > 5 || err === null || typeof err !== 'object') return []
  const codes: string[] = []
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string') codes.push(code)
  const nested = [(err as { cause?: unknown }).cause, ...(err instanceof AggregateError ? err.errors : [])]
  for (const inner of nested) codes.push(...errorCodes(inner, depth + 1))
  return codes
}

/** AbortSignal.timeout() aborts with a DOMException named TimeoutError. */
function isTimeout(err: unknown): boolean {
  return err instanceof Error && err.name === 'TimeoutError'
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 200 ? `${line.slice(0, 200)}...` : line
}
