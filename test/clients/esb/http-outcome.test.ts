// Who is at fault for each HTTP answer (the table in README "The ESB").
import t from 'tap'
import { httpOutcome } from '../../../src/clients/esb/http-outcome.js'

const FAULT = (code: string, text: string) =>
  `<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body><env:Fault><faultcode>${code}</faultcode><faultstring>${text}</faultstring></env:Fault></env:Body></env:Envelope>`

t.test('2xx without a fault is accepted; with one it is about the record', async (t) => {
  t.same(httpOutcome(200, '<ok/>'), { kind: 'accepted', status: 200, body: '<ok/>' })
  t.same(httpOutcome(202, ''), { kind: 'accepted', status: 202, body: '' })
  t.match(httpOutcome(200, FAULT('env:Server', 'Busy')), { kind: 'record', status: 200, reason: 'HTTP 200 with SOAP fault env:Server: Busy' })
})

t.test('a SOAP fault with a 5xx or another 4xx is about the record', async (t) => {
  for (const status of [500, 502, 503, 405, 409]) {
    t.match(httpOutcome(status, FAULT('env:Client', 'Internal Error')), { kind: 'record', status, faultCode: 'env:Client', faultString: 'Internal Error' }, `HTTP ${status}`)
  }
})

t.test('400, 413 and 422 are about the record even without a fault', async (t) => {
  for (const status of [400, 413, 422]) t.match(httpOutcome(status, 'bad request'), { kind: 'record', status, reason: `HTTP ${status} (bad request)` }, `HTTP ${status}`)
})

t.test('404, 408, 425, 429 and 3xx are the endpoint, with or without a fault', async (t) => {
  for (const status of [404, 408, 425, 429, 301, 307]) {
    t.match(httpOutcome(status, 'x'), { kind: 'endpoint', status, label: `http_${status}`, credentials: false }, `HTTP ${status}`)
    t.match(httpOutcome(status, FAULT('env:Client', 'x')), { kind: 'endpoint', status }, `HTTP ${status} with a fault`)
  }
  t.match(httpOutcome(404, 'No such path for url https://gw:2443/ws/rest/v1/knack/submitKnack/'), {
    reason: 'HTTP 404 (No such path for url https://gw:2443/ws/rest/v1/knack/submitKnack/)'
  })
  t.match(httpOutcome(404, '', 'No such path'), { reason: 'HTTP 404 (No such path)' }, 'an empty body: the status text')
})

t.test('401 and 403 are the endpoint refusing our credentials', async (t) => {
  for (const status of [401, 403]) t.match(httpOutcome(status, 'Unauthorized'), { kind: 'endpoint', status, credentials: true, reason: /refused the credentials/ })
})

t.test('5xx and other 4xx without a fault are the endpoint', async (t) => {
  for (const status of [500, 502, 503, 504, 405, 406, 415]) t.match(httpOutcome(status, '<html>down</html>'), { kind: 'endpoint', status, reason: `HTTP ${status} (down)` }, `HTTP ${status}`)
})
