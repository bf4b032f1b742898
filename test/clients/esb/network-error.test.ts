// No HTTP answer: always the endpoint's trouble. What differs is whether a quick retry may help
// (a refused or reset connection: another node may answer) and whether it is about credentials.
import t from 'tap'
import { classifyNetworkError } from '../../../src/clients/esb/network-error.js'

const coded = (code: string, message = code): Error => Object.assign(new Error(message), { code })

t.test('time-outs from the abort signal and from undici: not retried quickly', async (t) => {
  const reasons = [new DOMException('The operation was aborted due to timeout', 'TimeoutError'), coded('UND_ERR_HEADERS_TIMEOUT'), coded('UND_ERR_BODY_TIMEOUT')].map((e) =>
    classifyNetworkError(e, 30000)
  )
  for (const r of reasons) t.same(r, { label: 'timeout', transient: false, credentials: false, reason: 'timeout after 30000 ms' })
  t.same(classifyNetworkError(coded('UND_ERR_CONNECT_TIMEOUT'), 300), {
    label: 'connect_timeout',
    transient: false,
    credentials: false,
    reason: 'timeout connecting to the ESB after 300 ms'
  })
})

t.test('refused, reset, and a refusal wrapped in an AggregateError or a cause: transient', async (t) => {
  t.match(classifyNetworkError(coded('ECONNREFUSED'), 1), { transient: true, credentials: false, reason: 'connection refused' })
  t.match(classifyNetworkError(coded('ECONNRESET'), 1), { transient: true, reason: 'connection reset' })
  const aggregate = new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')], 'all failed')
  t.match(classifyNetworkError(aggregate, 1), { label: 'connection_refused', transient: true })
  t.match(classifyNetworkError(new Error('fetch failed', { cause: coded('ECONNRESET') }), 1), { label: 'connection_reset' })
})

t.test('an untrusted server certificate: configuration, no quick retry', async (t) => {
  for (const code of ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']) {
    t.same(classifyNetworkError(coded(code), 1), { label: 'tls_untrusted', transient: false, credentials: false, reason: `ESB certificate not trusted: ${code}` })
  }
})

t.test('a TLS alert about our client certificate is a credentials problem', async (t) => {
  for (const code of ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE']) {
    t.same(classifyNetworkError(coded(code), 1), { label: 'tls_refused', transient: false, credentials: true, reason: `ESB refused the client certificate: ${code}` })
  }
})

t.test('an unusable key or a plain-HTTP endpoint is configuration, no quick retry', async (t) => {
  t.match(classifyNetworkError(coded('ERR_OSSL_X509_KEY_VALUES_MISMATCH', 'key values mismatch'), 1), {
    transient: false,
    reason: 'client certificate or key unusable: ERR_OSSL_X509_KEY_VALUES_MISMATCH'
  })
  t.match(classifyNetworkError(coded('ERR_SSL_WRONG_VERSION_NUMBER'), 1), { transient: false, reason: /plain HTTP/ })
})

t.test('anything else is transient with a one-line reason', async (t) => {
  const r = classifyNetworkError(new Error('something\nodd   happened'), 1)
  t.same(r, { label: 'error', transient: true, credentials: false, reason: 'ESB request failed: something odd happened' })
  t.match(classifyNetworkError('weird', 1), { transient: true, reason: 'ESB request failed: weird' })
})
