import t from 'tap'
import { parseSoapFault } from '../../../src/clients/esb/soap-fault.js'
import { httpOutcome } from '../../../src/clients/esb/http-outcome.js'

const fault11 = (prefix: string, code: string, text: string): string =>
  `<${prefix}:Envelope xmlns:${prefix}="http://schemas.xmlsoap.org/soap/envelope/"><${prefix}:Body>` +
  `<${prefix}:Fault><faultcode>${code}</faultcode><faultstring>${text}</faultstring></${prefix}:Fault>` +
  `</${prefix}:Body></${prefix}:Envelope>`

t.test('reads faultcode and faultstring whatever the envelope prefix', async (t) => {
  for (const prefix of ['env', 'soap', 'soapenv', 'S']) {
    t.same(parseSoapFault(fault11(prefix, 'env:Client', 'Internal Error')), { code: 'env:Client', string: 'Internal Error' }, prefix)
  }
})

t.test('keeps codes as text and decodes entities once', async (t) => {
  t.same(parseSoapFault(fault11('env', '500', 'a &lt;b&gt; &amp; c\n  d')), { code: '500', string: 'a <b> & c d' })
})

t.test('reads a SOAP 1.2 fault', async (t) => {
  const xml =
    '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault>' +
    '<env:Code><env:Value>env:Receiver</env:Value></env:Code><env:Reason><env:Text xml:lang="en">Down</env:Text></env:Reason>' +
    '</env:Fault></env:Body></env:Envelope>'
  t.same(parseSoapFault(xml), { code: 'env:Receiver', string: 'Down' })
})

t.test('a normal answer, an HTML page or an empty body is not a fault', async (t) => {
  const ok =
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>' +
    '<acc:submitKnackResponse xmlns:acc="x"><status>ACCEPTED</status></acc:submitKnackResponse></soapenv:Body></soapenv:Envelope>'
  t.equal(parseSoapFault(ok), undefined)
  t.equal(parseSoapFault('<html><body>Service Unavailable</body></html>'), undefined)
  t.equal(parseSoapFault(''), undefined)
  t.equal(parseSoapFault('<Faulty>no</Faulty>'), undefined)
})

t.test('a truncated fault still counts as a fault', async (t) => {
  const cut = fault11('env', 'env:Server', 'x').slice(0, 90)
  t.ok(cut.includes('env:Fault'))
  t.same(parseSoapFault(cut), {})
})

t.test('httpOutcome: success, faults, statuses (who is at fault)', async (t) => {
  t.same(httpOutcome(202, ''), { kind: 'accepted', status: 202, body: '' })
  t.match(httpOutcome(500, fault11('soapenv', 'env:Client', 'Internal Error')), {
    kind: 'record', status: 500, reason: 'HTTP 500 env:Client: Internal Error'
  })
  t.match(httpOutcome(200, fault11('env', 'env:Server', 'Busy')), {
    kind: 'record', reason: 'HTTP 200 with SOAP fault env:Server: Busy'
  })
  // A 404 was a permanent rejection before the Boomi gateway; now it is the gateway's trouble.
  t.match(httpOutcome(404, '<html><h1>Not\nFound</h1></html>'), { kind: 'endpoint', credentials: false, reason: 'HTTP 404 (Not Found)' })
  t.match(httpOutcome(401, ''), { kind: 'endpoint', credentials: true, reason: /^HTTP 401 \(the ESB refused the credentials/ })
  t.match(httpOutcome(429, ''), { kind: 'endpoint' })
  t.match(httpOutcome(301, ''), { kind: 'endpoint' })
  t.match(httpOutcome(502, 'x'.repeat(1000)), { kind: 'endpoint', reason: /^HTTP 502 \(x{160}\.\.\.\)$/ })
})
