import t from 'tap'
import { classifyNetworkError } from '../../../src/clients/esb/network-error.js'

const coded = (code: string, message = code): Error => Object.assign(new Error(message), { code })

t.test('timeouts from the abort signal and from undici', async (t) => {
  const reasons = [
    new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
    coded('UND_ERR_HEADERS_TIMEOUT'),
    coded('UND_ERR_CONNECT_TIMEOUT')
  ].map((e) => classifyNetworkError(e, 30000))
  for (const r of reasons) t.same(r, { label: 'timeout', retryable: true, reason: 'timeout after 30000 ms' })
})

t.test('refused, reset, and a refusal wrapped in an AggregateError or a cause', async (t) => {
  t.match(classifyNetworkError(coded('ECONNREFUSED'), 1), { retryable: true, reason: 'connection refused' })
  t.match(classifyNetworkError(coded('ECONNRESET'), 1), { retryable: true, reason: 'connection reset' })
  const aggregate = new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')], 'all failed')
  t.match(classifyNetworkError(aggregate, 1), { label: 'connection_refused', retryable: true })
  t.match(classifyNetworkError(new Error('fetch failed', { cause: coded('ECONNRESET') }), 1), { label: 'connection_reset' })
})

t.test('an untrusted server certificate is not retryable', async (t) => {
  for (const code of ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']) {
    t.same(classifyNetworkError(coded(code), 1), { label: 'tls_untrusted', retryable: false, reason: `ESB certificate not trusted: ${code}` })
  }
})

t.test('a TLS alert about our client certificate is not retryable', async (t) => {
  for (const code of ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE']) {
    t.match(classifyNetworkError(coded(code), 1), { label: 'tls_refused', retryable: false, reason: `ESB refused the client certificate: ${code}` })
  }
})

t.test('an unusable key or a plain-HTTP endpoint is configuration, not retryable', async (t) => {
  t.match(classifyNetworkError(coded('ERR_OSSL_X509_KEY_VALUES_MISMATCH', 'key values mismatch'), 1), {
    retryable: false, reason: 'client certificate or key unusable: ERR_OSSL_X509_KEY_VALUES_MISMATCH'
  })
  t.match(classifyNetworkError(coded('ERR_SSL_WRONG_VERSION_NUMBER'), 1), { retryable: false, reason: /plain HTTP/ })
})

t.test('anything else is retryable with a one-line reason', async (t) => {
  const r = classifyNetworkError(new Error('something\nodd   happened'), 1)
  t.same(r, { label: 'error', retryable: true, reason: 'ESB request failed: something odd happened' })
  t.match(classifyNetworkError('weird', 1), { retryable: true, reason: 'ESB request failed: weird' })
})
