// E-mail over SMTP with nodemailer, always over TLS: `smtps://` is TLS from the first byte,
// `smtp://` must upgrade with STARTTLS (requireTLS) or the message is not sent. The server's
// certificate is verified against the system CAs (or NODE_EXTRA_CA_CERTS, or `tls.ca` for tests).
import { createHash } from 'node:crypto'
import nodemailer from 'nodemailer'
import { channelFailure } from '../../errors.js'
import type { AlertMessage } from '../message.js'
import type { AlertChannel } from './types.js'

export interface EmailSettings {
  smtpUrl: string
  from: string
  to: string[]
}

export interface EmailOptions {
  /** PEM CA(s) for the SMTP server's certificate instead of the system's (tests, private CAs). */
  ca?: string | undefined
  timeoutMs?: number | undefined
}

export interface EmailContent {
  subject: string
  text: string
  html: string
}

const SUBJECT_PREFIX: Record<AlertMessage['severity'], string> = { critical: 'ALERT', warning: 'Warning', info: 'Info', resolved: 'Resolved' }

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** Subject, plain text and HTML of one alert (every value HTML-escaped in the HTML). */
export function emailContent(m: AlertMessage): EmailContent {
  const more = m.moreItems > 0 ? [`and ${m.moreItems} more`] : []
  const text = [
    m.title,
    '',
    m.summary,
    ...(m.facts.length ? ['', ...m.facts.map((f) => `${f.name}: ${f.value}`)] : []),
    ...(m.items.length ? ['', ...m.items.map((i) => `- ${i.text}${i.url ? `\n  ${i.url}` : ''}`), ...more] : []),
    ...(m.links.length ? ['', ...m.links.map((l) => `${l.label}: ${l.url}`)] : []),
    '',
    `-- knack311 · ${m.kind} · ${m.createdAt}`
  ].join('\n')
  const html = [
    `<h2>${esc(m.title)}</h2>`,
    `<p>${esc(m.summary)}</p>`,
    ...(m.facts.length ? [`<table>${m.facts.map((f) => `<tr><th align="left">${esc(f.name)}</th><td>${esc(f.value)}</td></tr>`).join('')}</table>`] : []),
    ...(m.items.length
      ? [`<ul>${m.items.map((i) => `<li>${esc(i.text)}${i.url ? ` <a href="${esc(i.url)}">open</a>` : ''}</li>`).join('')}${more.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`]
      : []),
    ...(m.links.length ? [`<p>${m.links.map((l) => `<a href="${esc(l.url)}">${esc(l.label)}</a>`).join(' · ')}</p>`] : []),
    `<p style="color:#666">knack311 · ${esc(m.kind)} · ${esc(m.createdAt)}</p>`
  ].join('\n')
  return { subject: `[knack311] ${SUBJECT_PREFIX[m.severity]}: ${m.title}`, text, html }
}

export function createEmailChannel(settings: EmailSettings, opts: EmailOptions = {}): AlertChannel {
  const timeout = opts.timeoutMs ?? 20_000
  const implicitTls = settings.smtpUrl.startsWith('smtps:')
  const transport = nodemailer.createTransport({
    url: settings.smtpUrl,
    // smtp:// must upgrade with STARTTLS; a server that does not offer it gets no alert.
    requireTLS: !implicitTls,
    tls: { minVersion: 'TLSv1.2', ...(opts.ca ? { ca: opts.ca } : {}) },
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout
  })
  return {
    name: 'email',
    async send(m) {
      const content = emailContent(m)
      try {
        await transport.sendMail({
          from: settings.from,
          to: settings.to,
          subject: content.subject,
          text: content.text,
          html: content.html,
          // The same alert has the same Message-ID: a repeat after a crash threads with the first.
          messageId: `<${createHash('sha256').update(m.key).digest('hex').slice(0, 32)}@alerts.knack311>`,
          headers: { 'X-Knack311-Alert': m.key }
        })
      } catch (err) {
        throw channelFailure(smtpReason(err), { retryable: true })
      }
    },
    async close() {
      transport.close()
    }
  }
}

/** nodemailer's code, the server's reply code and its first line; never the URL (it holds the password). */
function smtpReason(err: unknown): string {
  const e = err as { code?: unknown; responseCode?: unknown; response?: unknown; message?: unknown }
  const code = typeof e.code === 'string' ? e.code : 'error'
  const reply = typeof e.response === 'string' ? e.response.split('\n')[0]?.slice(0, 200) : undefined
  const status = typeof e.responseCode === 'number' ? ` ${e.responseCode}` : ''
  return `SMTP ${code}${status}${reply ? `: ${reply}` : ''}`
}
