import https from 'node:https'
import t from 'tap'
import type { Test } from 'tap'
import { Agent, request } from 'undici'
import { generateTestPki } from '../../src/sandbox/certs.js'
import { startEsbSimulator, type EsbSimulator } from '../../src/sandbox/esb-simulator.js'

const pki = generateTestPki()

function envelope(inner: { srNumber?: string; details?: string; accNs?: string } = {}): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
    `xmlns:acc="${inner.accNs ?? 'http://www.austintexas.gov/AcceptKnack/'}">` +
    '<soapenv:Header/><soapenv:Body><acc:submitKnack>' +
    '<header><emi>EMI-1</emi><timestamp>2024-05-01T10:00:00-05:00</timestamp><source>KNACK</source>' +
    '<target>CSR</target><data_type>CSR</data_type><event>UPDATE</event></header>' +
    `<data><csr><id>rec1</id><csr_activity_id/><sr_number>${inner.srNumber ?? 'SR-1'}</sr_number>` +
    '<issue_status_code>closed_resolved</issue_status_code><activity_type_code>SIGNREPL</activity_type_code>' +
    `<activity_details>${inner.details ?? 'Fixed'}</activity_details><outcome_code>COMPLET1</outcome_code>` +
    '<activity_date>2024-05-01T09:30:00-05:00</activity_date></csr></data>' +
    '</acc:submitKnack></soapenv:Body></soapenv:Envelope>'
  )
}

/** A raw HTTPS client with our client certificate, so each check sees exactly what was sent. */
function agentFor(t: Test, connect: { cert?: string; key?: string; ca: string }): Agent {
  const agent = new Agent({ connect, headersTimeout: 5000, bodyTimeout: 5000 })
  t.teardown(() => agent.close())
  return agent
}

async function post(agent: Agent, url: string, body: string | Buffer, contentType = 'text/xml; charset=utf-8', method: 'POST' | 'GET' = 'POST') {
  const res = await request(url, { dispatcher: agent, method, headers: { 'content-type': contentType }, body: method === 'POST' ? body : null })
  return { status: res.statusCode, text: await res.body.text() }
}

async function simulator(t: Test): Promise<EsbSimulator> {
  const sim = await startEsbSimulator({ pki })
  t.teardown(() => sim.close())
  return sim
}

t.test('accepts a well-formed message and records its values and the client CN', async (t) => {
  const sim = await simulator(t)
  t.match(sim.url, /^https:\/\/127\.0\.0\.1:\d+\/AcceptKnack$/)
  const agent = agentFor(t, { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert })
  const res = await post(agent, sim.url, envelope({ details: 'a &lt;b&gt; &amp; c' }))
  t.equal(res.status, 200)
  t.match(res.text, /<acc:submitKnackResponse>/)
  t.equal(sim.received.length, 1)
  const got = sim.received[0]
  t.equal(got?.clientCN, 'knack311-client')
  t.match(got?.values, {
    emi: 'EMI-1', source: 'KNACK', event: 'UPDATE', id: 'rec1', csr_activity_id: '', sr_number: 'SR-1',
    activity_details: 'a <b> & c', outcome_code: 'COMPLET1'
  })
  t.ok(got?.at instanceof Date)
  t.match(got?.xml, /<sr_number>SR-1<\/sr_number>/)
})

t.test('refuses a client without a certificate at the TLS layer', async (t) => {
  const sim = await simulator(t)
  const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const req = https.request(sim.url, { method: 'POST', ca: pki.ca.cert, agent: false }, (res) => {
      res.resume()
      resolve(undefined)
    })
    req.on('error', resolve)
    req.end(envelope())
  })
  t.ok(err, 'the request failed')
  t.match(err?.code, /^(ERR_SSL_\w+|ECONNRESET|EPROTO)$/)
  t.equal(sim.received.length, 0)
  t.equal(sim.attempts, 0)
  t.ok(sim.tlsRejections >= 1)
})

t.test('refuses a client whose certificate comes from another CA', async (t) => {
  const sim = await simulator(t)
  const agent = agentFor(t, { cert: pki.otherClient.cert, key: pki.otherClient.key, ca: pki.ca.cert })
  const err = await post(agent, sim.url, envelope()).then(
    () => undefined,
    (e: unknown) => e as { code?: string }
  )
  t.ok(err, 'the request failed')
  t.match(err?.code, /^(UND_ERR_SOCKET|ECONNRESET|ERR_SSL_\w+)$/)
  t.equal(sim.received.length, 0)
  t.equal(sim.attempts, 0)
  t.ok(sim.tlsRejections >= 1)
})

t.test('a bad message gets a 500 env:Client fault naming the problem and is not recorded', async (t) => {
  const sim = await simulator(t)
  const agent = agentFor(t, { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert })
  const cases: Array<[string, string | Buffer, string, RegExp]> = [
    ['non-ASCII body', envelope({ details: 'café' }), 'text/xml', /Body is not ASCII: byte \d+ is 0xc3/],
    ['malformed XML', envelope().replace('</sr_number>', '</sr_numbr>'), 'text/xml', /Malformed XML at line 1/],
    ['wrong acc namespace', envelope({ accNs: 'urn:other' }), 'text/xml', /No acc:submitKnack/],
    ['no envelope', '<submitKnack/>', 'text/xml', /No soapenv:Envelope/],
    ['JSON content type', envelope(), 'application/json', /Content-Type must be text\/xml, got application\/json/]
  ]
  for (const [name, body, type, problem] of cases) {
    const res = await post(agent, sim.url, body, type)
    t.equal(res.status, 500, name)
    t.match(res.text, /<faultcode>env:Client<\/faultcode>/, name)
    t.match(res.text, problem, name)
  }
  t.equal(sim.received.length, 0)
  t.equal(sim.attempts, cases.length)
})

t.test('other prefixes for the same namespaces are fine', async (t) => {
  const sim = await simulator(t)
  const agent = agentFor(t, { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert })
  const xml = envelope().replace(/soapenv:/g, 's:').replace('xmlns:soapenv', 'xmlns:s').replace(/acc:/g, 'k:').replace('xmlns:acc', 'xmlns:k')
  t.equal((await post(agent, sim.url, xml)).status, 200)
  t.equal(sim.received.length, 1)
})

t.test('wrong path and method', async (t) => {
  const sim = await simulator(t)
  const agent = agentFor(t, { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert })
  t.equal((await post(agent, sim.url.replace('/AcceptKnack', '/nope'), envelope())).status, 404)
  t.equal((await post(agent, sim.url, '', 'text/xml', 'GET')).status, 405)
  t.equal(sim.received.length, 0)
})

t.test('modes: fault, status, failNext, latency', async (t) => {
  const sim = await simulator(t)
  const agent = agentFor(t, { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert })
  sim.mode({ fault: { code: 'env:Client', string: 'Internal <Error>' } })
  const fault = await post(agent, sim.url, envelope())
  t.equal(fault.status, 500)
  t.match(fault.text, /<faultstring>Internal &lt;Error&gt;<\/faultstring>/)
  sim.mode({ fault: { code: 'env:Server', string: 'x', status: 200 } })
  t.equal((await post(agent, sim.url, envelope())).status, 200)
  sim.mode({ status: 503 })
  t.equal((await post(agent, sim.url, envelope())).status, 503)
  sim.mode({ status: 202 })
  t.equal((await post(agent, sim.url, envelope({ srNumber: 'SR-202' }))).status, 202)
  t.equal(sim.received.length, 1, 'only the 2xx success was recorded')

  sim.mode('ok')
  sim.failNext(1, { code: 'env:Server', string: 'Once' })
  t.equal((await post(agent, sim.url, envelope())).status, 500)
  t.equal((await post(agent, sim.url, envelope({ srNumber: 'SR-after' }))).status, 200)
  t.same(sim.received.map((r) => r.values.sr_number), ['SR-202', 'SR-after'])

  sim.setLatency(50)
  const waited = sim.waitForReceived(3, 5000)
  t.equal((await post(agent, sim.url, envelope({ srNumber: 'SR-slow' }))).status, 200)
  t.equal((await waited).length, 3)

  sim.clear()
  t.equal(sim.received.length, 0)
  t.equal(sim.attempts, 0)
  await t.rejects(sim.waitForReceived(1, 50), /expected 1 messages within 50 ms, got 0/)
})

t.test('down refuses connections; up listens again on the same port', async (t) => {
  const sim = await simulator(t)
  const agent = agentFor(t, { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert })
  t.equal((await post(agent, sim.url, envelope())).status, 200)
  await sim.down()
  await t.rejects(post(agent, sim.url, envelope()), { code: 'ECONNREFUSED' })
  await sim.up()
  t.equal((await post(agent, sim.url, envelope())).status, 200)
  t.equal(sim.received.length, 2)
})

t.test('hang holds requests open until close, and close does not wait for them', async (t) => {
  const sim = await startEsbSimulator({ pki })
  const agent = agentFor(t, { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert })
  sim.mode('hang')
  const pending = post(agent, sim.url, envelope()).then(
    () => 'answered',
    () => 'dropped'
  )
  await t.resolves(waitUntil(() => sim.attempts === 1))
  await sim.close()
  t.equal(await pending, 'dropped')
  t.equal(sim.received.length, 0)
  await t.rejects(sim.up(), /closed/)
})

t.test('received is bounded to the newest maxReceived messages', async (t) => {
  const sim = await startEsbSimulator({ pki, maxReceived: 2 })
  t.teardown(() => sim.close())
  const agent = agentFor(t, { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert })
  for (const sr of ['SR-a', 'SR-b', 'SR-c']) await post(agent, sim.url, envelope({ srNumber: sr }))
  t.same(sim.received.map((r) => r.values.sr_number), ['SR-b', 'SR-c'])
})

async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10))
  if (!check()) throw new Error('condition not met within 2 s')
}
