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

t.test('the gateway path is the same service; every message records its path', async (t) => {
  const sim = await simulator(t)
  t.match(sim.gatewayUrl, /^https:\/\/127\.0\.0\.1:\d+\/ws\/rest\/v1\/knack\/submitKnack\/$/)
  const agent = agentFor(t, { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert })
  t.equal((await post(agent, sim.gatewayUrl, envelope())).status, 200)
  t.equal((await post(agent, sim.url, envelope())).status, 200)
  t.same(sim.received.map((m) => m.path), ['/ws/rest/v1/knack/submitKnack/', '/AcceptKnack'])
})

t.test('flaky: a seeded share of 404 No such path, the same sequence for the same seed', async (t) => {
  const run = async (seed: number) => {
    const sim = await startEsbSimulator({ pki, flaky: { notFound: 0.5, seed } })
    t.teardown(() => sim.close())
    const agent = agentFor(t, { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert })
    const statuses: number[] = []
    let text = ''
    for (let i = 0; i < 40; i++) {
      const res = await post(agent, sim.gatewayUrl, envelope({ srNumber: `SR-${i}` }))
      statuses.push(res.status)
      if (res.status === 404) text = res.text
    }
    return { sim, statuses, text }
  }
  const a = await run(7)
  const b = await run(7)
  t.same(a.statuses, b.statuses, 'the same seed gives the same answers')
  const notFound = a.statuses.filter((s) => s === 404).length
  t.ok(notFound >= 10 && notFound <= 30, `about half 404: ${notFound} of 40`)
  t.equal(a.sim.stats.notFound, notFound)
  t.equal(a.sim.received.length, 40 - notFound, 'the rest accepted')
  t.match(a.text, /^No such path for url https:\/\/127\.0\.0\.1:\d+\/ws\/rest\/v1\/knack\/submitKnack\/$/)
  a.sim.flaky(undefined)
  const agent = agentFor(t, { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert })
  for (let i = 0; i < 5; i++) t.equal((await post(agent, a.sim.url, envelope())).status, 200, 'not flaky any more')
})

t.test('time-outs after reading: the message is recorded as received but unanswered', async (t) => {
  const sim = await simulator(t)
  const agent = new Agent({ connect: { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert }, headersTimeout: 300, bodyTimeout: 300 })
  t.teardown(() => agent.close())
  sim.timeoutNext(1)
  await t.rejects(post(agent, sim.url, envelope({ srNumber: 'SR-lost' })), { code: 'UND_ERR_HEADERS_TIMEOUT' })
  t.same(sim.unanswered.map((m) => m.values.sr_number), ['SR-lost'])
  t.equal(sim.unanswered[0]?.clientCN, 'knack311-client')
  t.equal(sim.stats.timeouts, 1)
  t.equal(sim.received.length, 0)
  t.equal((await post(agent, sim.url, envelope({ srNumber: 'SR-next' }))).status, 200, 'only the next one')

  // The flaky share: every request read and left unanswered.
  sim.flaky({ timeout: 1 })
  await t.rejects(post(agent, sim.url, envelope({ srNumber: 'SR-flaky' })), { code: 'UND_ERR_HEADERS_TIMEOUT' })
  t.same(sim.unanswered.map((m) => m.values.sr_number), ['SR-lost', 'SR-flaky'])
})

t.test('Basic credentials: demanded, checked, and the user recorded', async (t) => {
  const sim = await startEsbSimulator({ pki, clientCertificate: 'optional', basic: { username: 'svc', password: 's3cret' } })
  t.teardown(() => sim.close())
  const noCert = agentFor(t, { ca: pki.ca.cert })
  const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`
  const send = async (authorization?: string) => {
    const res = await request(sim.url, {
      dispatcher: noCert,
      method: 'POST',
      headers: { 'content-type': 'text/xml', ...(authorization ? { authorization } : {}) },
      body: envelope()
    })
    return { status: res.statusCode, auth: res.headers['www-authenticate'], text: await res.body.text() }
  }
  const missing = await send()
  t.equal(missing.status, 401)
  t.equal(missing.auth, 'Basic realm="ESB"')
  t.equal((await send(basic('svc', 'wrong'))).status, 401)
  t.equal((await send(basic('svc', 's3cret'))).status, 200, 'no client certificate needed when optional')
  t.equal(sim.stats.unauthorized, 2)
  t.equal(sim.received[0]?.basicUser, 'svc')
  t.equal(sim.received[0]?.clientCN, '')
  sim.requireBasic(undefined)
  t.equal((await send()).status, 200, 'no longer demanded')
  t.equal(sim.received[1]?.basicUser, null)
})

t.test('optional client certificates: one that is presented is verified and its CN recorded', async (t) => {
  const sim = await startEsbSimulator({ pki, clientCertificate: 'optional' })
  t.teardown(() => sim.close())
  const withCert = agentFor(t, { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert })
  const stranger = agentFor(t, { cert: pki.otherClient.cert, key: pki.otherClient.key, ca: pki.ca.cert })
  t.equal((await post(withCert, sim.url, envelope())).status, 200)
  t.equal((await post(stranger, sim.url, envelope())).status, 200)
  t.same(sim.received.map((m) => m.clientCN), ['knack311-client', ''], 'an untrusted certificate does not count as one')
})

t.test('trust: a client certificate from another CA is accepted once the simulator trusts that CA', async (t) => {
  const sim = await simulator(t)
  const stranger = () => agentFor(t, { cert: pki.otherClient.cert, key: pki.otherClient.key, ca: pki.ca.cert })
  await t.rejects(post(stranger(), sim.url, envelope()))
  sim.trust(pki.otherCa.cert)
  t.equal((await post(stranger(), sim.url, envelope())).status, 200, 'a new connection is accepted')
  t.equal(sim.received[0]?.clientCN, 'knack311-client')
})

t.test('faultWhen: one record faults while the others are accepted', async (t) => {
  const sim = await simulator(t)
  const agent = agentFor(t, { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert })
  sim.faultWhen((v) => v.sr_number === 'SR-bad')
  const bad = await post(agent, sim.url, envelope({ srNumber: 'SR-bad' }))
  t.equal(bad.status, 500)
  t.match(bad.text, /<faultcode>env:Client<\/faultcode><faultstring>Internal Error<\/faultstring>/)
  t.equal((await post(agent, sim.url, envelope({ srNumber: 'SR-good' }))).status, 200)
  sim.faultWhen(undefined)
  t.equal((await post(agent, sim.url, envelope({ srNumber: 'SR-bad' }))).status, 200)
  t.same(sim.received.map((m) => m.values.sr_number), ['SR-good', 'SR-bad'])
})
