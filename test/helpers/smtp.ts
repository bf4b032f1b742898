// A real SMTP server on 127.0.0.1 (smtp-server) for the e-mail alerts: TLS always — implicit TLS
// (smtps) or STARTTLS — with the test PKI's server certificate, PLAIN/LOGIN auth only after
// TLS, and every message parsed (mailparser) so tests read subject, recipients and body.
import type { AddressInfo } from 'node:net'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import type { TestPki } from '../../src/sandbox/certs.js'

export interface ReceivedMail {
  /** Envelope recipients (RCPT TO). */
  to: string[]
  from: string
  /** The session was TLS when the message arrived. */
  secure: boolean
  user: string | undefined
  raw: string
  parsed: ParsedMail
}

export interface SmtpTestServer {
  /** smtps://user:pass@127.0.0.1:port or smtp://… (STARTTLS). */
  url: string
  user: string
  password: string
  received: ReceivedMail[]
  /** Refuse the next messages with this SMTP reply code (e.g. 451), or accept again (null). */
  failWith(code: number | null): void
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>
  close(): Promise<void>
}

export async function startSmtpServer(pki: TestPki, opts: { implicitTls: boolean; user?: string; password?: string }): Promise<SmtpTestServer> {
  const user = opts.user ?? 'alerts@example.org'
  const password = opts.password ?? `smtp-pw-${Math.random().toString(36).slice(2)}`
  const received: ReceivedMail[] = []
  let failCode: number | null = null
  const server = new SMTPServer({
    secure: opts.implicitTls,
    key: pki.server.key,
    cert: pki.server.cert,
    authMethods: ['PLAIN', 'LOGIN'],
    // Auth needs TLS (smtp-server's default): a client that skipped STARTTLS could not log in.
    allowInsecureAuth: false,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) callback(null, { user })
      else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }))
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        if (failCode !== null) {
          callback(Object.assign(new Error('try again later'), { responseCode: failCode }))
          return
        }
        const raw = Buffer.concat(chunks).toString('utf8')
        simpleParser(raw).then(
          (parsed) => {
            received.push({
              to: session.envelope.rcptTo.map((r) => r.address),
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              secure: session.secure,
              user: typeof session.user === 'string' ? session.user : undefined,
              raw,
              parsed
            })
            callback()
          },
          (err: Error) => callback(err)
        )
      })
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.server.address() as AddressInfo
  const scheme = opts.implicitTls ? 'smtps' : 'smtp'
  return {
    url: `${scheme}://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    user,
    password,
    received,
    failWith(code) {
      failCode = code
    },
    async waitFor(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`SMTP server: ${received.length} of ${count} messages after ${timeoutMs} ms`)
        await new Promise((r) => setTimeout(r, 20))
      }
      return received.slice(0, count)
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
