// The PEM files the ESB client presents and trusts: read them, and check a set before it is used
// (the certificate and key parse, belong together and are valid now; the CA parses). Reasons name
// files and OpenSSL codes, never their contents.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createSecureContext } from 'node:tls'

/** Which files: the client pair with mtls / mtls+basic, and ESB_CA when set. */
export interface TlsPaths {
  cert?: string | undefined
  key?: string | undefined
  ca?: string | undefined
}

/** Their contents (undefined = not used). */
export interface TlsTexts {
  cert?: string | undefined
  key?: string | undefined
  ca?: string | undefined
}

export interface CheckedCertificate {
  subject: string
  expiresAt: Date
  fingerprint: string
}

export type TlsCheck =
  | { ok: true; certificate?: CheckedCertificate | undefined }
  | { ok: false; reason: string; certificate?: CheckedCertificate | undefined }

const NAMES = { cert: 'ESB_CERT', key: 'ESB_KEY', ca: 'ESB_CA' } as const

/** A digest of the contents, to notice any change (content, not mtime: replaced or re-linked secret files keep or fake mtimes). */
export function digestOf(texts: TlsTexts): string {
  const h = createHash('sha256')
  for (const part of [texts.cert, texts.key, texts.ca]) h.update(part === undefined ? '\u0000-' : `\u0000+${part}`)
  return h.digest('hex')
}

export async function readTlsFiles(paths: TlsPaths): Promise<{ texts: TlsTexts; unreadable: string[] }> {
  const texts: TlsTexts = {}
  const unreadable: string[] = []
  for (const name of ['cert', 'key', 'ca'] as const) {
    const path = paths[name]
    if (path === undefined) continue
    try {
      texts[name] = await readFile(path, 'utf8')
    } catch (err) {
      // A placeholder that can never equal a real file, so the digest changes with the error too.
      texts[name] = `\u0000unreadable:${(err as NodeJS.ErrnoException).code ?? 'error'}`
      unreadable.push(`${NAMES[name]} ${path} is not readable (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  return { texts, unreadable }
}

/** Check a set of PEM texts as the client would use them at `now`. */
export function checkTls(texts: TlsTexts, paths: TlsPaths, now: Date): TlsCheck {
  let certificate: CheckedCertificate | undefined
  if (texts.cert !== undefined) {
    let cert: X509Certificate
    try {
      cert = new X509Certificate(texts.cert)
    } catch {
      return { ok: false, reason: `ESB_CERT ${paths.cert ?? '(in memory)'} is not a PEM certificate` }
    }
    certificate = { subject: cert.subject.replace(/\n/g, ', '), expiresAt: new Date(cert.validTo), fingerprint: cert.fingerprint256 }
    let matches: boolean
    try {
      matches = cert.checkPrivateKey(createPrivateKey(texts.key ?? ''))
    } catch {
      return { ok: false, reason: `ESB_KEY ${paths.key ?? '(in memory)'} is not a PEM private key`, certificate }
    }
    if (!matches) return { ok: false, reason: 'the client certificate does not match its key', certificate }
    if (certificate.expiresAt <= now) return { ok: false, reason: `the client certificate expired on ${certificate.expiresAt.toISOString()}`, certificate }
    const from = new Date(cert.validFrom)
    if (from > now) return { ok: false, reason: `the client certificate is not valid before ${from.toISOString()}`, certificate }
  }
  if (texts.ca !== undefined) {
    try {
      new X509Certificate(texts.ca)
    } catch {
      return { ok: false, reason: `ESB_CA ${paths.ca ?? '(in memory)'} is not a PEM certificate`, certificate }
    }
  }
  try {
    // What the TLS layer itself will say of the set (a chain it cannot load, an unusable key).
    createSecureContext({ ...(texts.cert !== undefined ? { cert: texts.cert, key: texts.key } : {}), ...(texts.ca !== undefined ? { ca: texts.ca } : {}) })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return { ok: false, reason: `the TLS layer refused the files${code ? ` (${code})` : ''}`, certificate }
  }
  return { ok: true, certificate }
}
