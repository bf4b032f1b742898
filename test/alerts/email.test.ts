// E-mail alerts through a real SMTP server on loopback (smtp-server) with TLS made from the test
// PKI; nodemailer verifies the server through the test CA, never with verification turned off.
import t from 'tap'
import { createEmailChannel } from '../../src/alerts/channels/email.js'
import { renderAlert, type RenderContext } from '../../src/alerts/render.js'
import { createScrub } from '../../src/alerts/scrub.js'
import { isChannelFailure } from '../../src/errors.js'
import { generateTestPki } from '../../src/sandbox/certs.js'
import { startSmtpServer } from '../helpers/smtp.js'
import { deadDeliveries, sampleAlerts } from './samples.js'

const pki = generateTestPki()
const ctx: RenderContext = { timezone: 'America/Chicago', publicUrl: 'https://knack311.example.org', scrub: createScrub([]) }
const dead = renderAlert(sampleAlerts().find((a) => a.kind === 'deliveries.dead')!, ctx)
const recipients = ['data-team@example.org', 'coordinators@example.org', 'oncall@example.org']

for (const implicitTls of [true, false]) {
  t.test(`${implicitTls ? 'smtps:// (implicit TLS)' : 'smtp:// with STARTTLS'}: every recipient gets the alert, authenticated, over TLS`, async (t) => {
    const smtp = await startSmtpServer(pki, { implicitTls })
    t.teardown(() => smtp.close())
    const channel = createEmailChannel({ smtpUrl: smtp.url, from: 'knack311@example.org', to: recipients }, { ca: pki.ca.cert })
    t.teardown(() => channel.close())
    await channel.send(dead)
    const [mail] = await smtp.waitFor(1)
    t.equal(smtp.received.length, 1, 'one message for all recipients')
    t.same(mail!.to.sort(), [...recipients].sort(), 'every recipient in the envelope')
    t.equal(mail!.from, 'knack311@example.org')
    t.ok(mail!.secure, 'the message travelled over TLS')
    t.equal(mail!.user, smtp.user, 'logged in with the URL\'s user')
    t.equal(mail!.parsed.subject, '[knack311] ALERT: 12 deliveries went dead')
    const text = mail!.parsed.text ?? ''
    for (const d of deadDeliveries(12)) t.ok(text.includes(d.srNumber) && text.includes(`https://knack311.example.org/console/deliveries/${d.id}`), `names SR ${d.srNumber} with its link`)
    const html = typeof mail!.parsed.html === 'string' ? mail!.parsed.html : ''
    t.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'a reason holding markup is escaped in the HTML part')
    t.notOk(html.includes('<script>'), 'no markup from a reason')
    t.equal(mail!.parsed.headers.get('x-knack311-alert'), 'deliveries.dead:sample')
    t.notOk(mail!.raw.includes(smtp.password), 'the SMTP password is not in the message')
  })
}

t.test('nodemailer verifies the server: without the CA that signed it, nothing is sent', async (t) => {
  const smtp = await startSmtpServer(pki, { implicitTls: true })
  t.teardown(() => smtp.close())
  const channel = createEmailChannel({ smtpUrl: smtp.url, from: 'knack311@example.org', to: recipients }, { timeoutMs: 5000 })
  t.teardown(() => channel.close())
  const err = await channel.send(dead).then(
    () => undefined,
    (e: unknown) => e
  )
  t.ok(isChannelFailure(err) && err.retryable, 'a failure the sender retries')
  t.match((err as Error).message, /^SMTP /)
  t.notOk((err as Error).message.includes(smtp.password), 'the message never holds the password')
  t.equal(smtp.received.length, 0, 'nothing delivered')
})

t.test('a server that does not offer STARTTLS gets nothing (smtp:// requires TLS)', async (t) => {
  const { SMTPServer } = await import('smtp-server')
  let messages = 0
  const plain = new SMTPServer({ hideSTARTTLS: true, authOptional: true, logger: false, onData(stream, _s, cb) {
    messages++
    stream.resume()
    stream.on('end', () => cb())
  } })
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', () => resolve()))
  t.teardown(() => new Promise<void>((resolve) => plain.close(() => resolve())))
  const { port } = plain.server.address() as { port: number }
  const channel = createEmailChannel({ smtpUrl: `smtp://127.0.0.1:${port}`, from: 'knack311@example.org', to: recipients }, { ca: pki.ca.cert, timeoutMs: 5000 })
  t.teardown(() => channel.close())
  const err = await channel.send(dead).then(
    () => undefined,
    (e: unknown) => e
  )
  t.ok(isChannelFailure(err), 'the send fails')
  t.equal(messages, 0, 'no message went over a plain connection')
})

t.test('a server answering 451 (try later) is a retryable failure', async (t) => {
  const smtp = await startSmtpServer(pki, { implicitTls: true })
  t.teardown(() => smtp.close())
  smtp.failWith(451)
  const channel = createEmailChannel({ smtpUrl: smtp.url, from: 'knack311@example.org', to: recipients }, { ca: pki.ca.cert })
  t.teardown(() => channel.close())
  const err = await channel.send(dead).then(
    () => undefined,
    (e: unknown) => e
  )
  t.ok(isChannelFailure(err) && err.retryable)
  t.match((err as Error).message, /SMTP EMESSAGE 451/)
  smtp.failWith(null)
  await channel.send(dead)
  t.equal((await smtp.waitFor(1)).length, 1, 'sent once the server takes mail again')
})
