// A throw-away PKI for the sandbox and the tests: a CA, an ESB server certificate for
// 127.0.0.1/localhost, a client certificate for the ESB, and a second CA with its own client for
// negative tests. Keys come from node:crypto (native, fast); certificates are built and signed
// with node-forge because node:crypto cannot issue certificates.
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import forge from 'node-forge'

export interface PemPair {
  /** PEM certificate. */
  cert: string
  /** PEM private key (PKCS#8). */
  key: string
}

export interface TestPki {
  /** Signs `server` and `client`. Its cert is what ESB_CA points at. */
  ca: PemPair
  /** The ESB's server certificate: CN localhost, SAN DNS:localhost and IP:127.0.0.1. */
  server: PemPair
  /** The client certificate for the ESB (CN knack311-client, clientAuth). ESB_CERT / ESB_KEY. */
  client: PemPair
  /** A CA nobody trusts. */
  otherCa: PemPair
  /** A client certificate (same CN) signed by `otherCa`: the ESB must refuse it. */
  otherClient: PemPair
}

export interface TestPkiOptions {
  /**
   * Validity of the `client` certificate in days (default 365). Zero or negative makes a
   * certificate that is already expired (it ended `-days` days ago), for readiness tests.
   */
  days?: number
  /** Start of the `client` certificate's validity (default one hour ago, to absorb clock skew). */
  notBefore?: Date
}

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000
const CA_DAYS = 3650
const SERVER_DAYS = 825

interface Subject {
  cn: string
  ca?: boolean
  eku?: 'serverAuth' | 'clientAuth'
  /** DNS names and IP addresses for the subjectAltName. */
  dns?: string[]
  ips?: string[]
}

export interface Validity {
  notBefore: Date
  notAfter: Date
}

interface Issuer {
  cert: forge.pki.Certificate
  key: forge.pki.rsa.PrivateKey
}

interface Issued extends PemPair {
  forgeCert: forge.pki.Certificate
  forgeKey: forge.pki.rsa.PrivateKey
}

/** Build the whole set. Takes a few hundred ms (six RSA 2048 keys, five signatures). */
export function generateTestPki(opts: TestPkiOptions = {}): TestPki {
  const ca = issue({ cn: 'knack311 Test CA', ca: true }, validFor(CA_DAYS))
  const otherCa = issue({ cn: 'knack311 Other CA', ca: true }, validFor(CA_DAYS))
  const server = issue(
    { cn: 'localhost', eku: 'serverAuth', dns: ['localhost'], ips: ['127.0.0.1'] },
    validFor(SERVER_DAYS),
    asIssuer(ca)
  )
  const client = issue({ cn: 'knack311-client', eku: 'clientAuth' }, clientValidity(opts), asIssuer(ca))
  const otherClient = issue({ cn: 'knack311-client', eku: 'clientAuth' }, validFor(365), asIssuer(otherCa))
  return { ca: pair(ca), server: pair(server), client: pair(client), otherCa: pair(otherCa), otherClient: pair(otherClient) }
}

/** Another client certificate from `ca` (a re-issue, as when the City's certificate is replaced),
 *  with its own key. `days` as in TestPkiOptions. */
export function issueClientCertificate(ca: PemPair, cn: string, opts: TestPkiOptions = {}): PemPair {
  const issuer: Issuer = { cert: forge.pki.certificateFromPem(ca.cert), key: forge.pki.privateKeyFromPem(ca.key) as forge.pki.rsa.PrivateKey }
  return pair(issue({ cn, eku: 'clientAuth' }, clientValidity(opts), issuer))
}

/** A new CA (e.g. the City's own when it switches issuers). */
export function issueCa(cn: string): PemPair {
  return pair(issue({ cn, ca: true }, validFor(CA_DAYS)))
}

export interface TestPkiPaths {
  /** Client certificate: the default ESB_CERT file name. */
  clientCert: string
  /** Client key: the default ESB_KEY file name. */
  clientKey: string
  /** CA certificate: for ESB_CA. */
  caCert: string
  caKey: string
  serverCert: string
  serverKey: string
  otherCaCert: string
  otherCaKey: string
  otherClientCert: string
  otherClientKey: string
}

/** Write the set as PEM files into `dir` (created if missing); keys are written mode 0600. */
export function writeTestPki(dir: string, pki: TestPki): TestPkiPaths {
  mkdirSync(dir, { recursive: true })
  const files: Array<[keyof TestPkiPaths, string, string]> = [
    ['clientCert', 'esb.cert', pki.client.cert],
    ['clientKey', 'esb.pem', pki.client.key],
    ['caCert', 'ca.pem', pki.ca.cert],
    ['caKey', 'ca-key.pem', pki.ca.key],
    ['serverCert', 'server.cert', pki.server.cert],
    ['serverKey', 'server.pem', pki.server.key],
    ['otherCaCert', 'other-ca.pem', pki.otherCa.cert],
    ['otherCaKey', 'other-ca-key.pem', pki.otherCa.key],
    ['otherClientCert', 'other-client.cert', pki.otherClient.cert],
    ['otherClientKey', 'other-client.pem', pki.otherClient.key]
  ]
  const paths = {} as TestPkiPaths
  for (const [name, file, pem] of files) {
    const path = join(dir, file)
    writeFileSync(path, pem, { mode: name.endsWith('Key') ? 0o600 : 0o644 })
    paths[name] = path
  }
  return paths
}

function validFor(days: number): Validity {
  const notBefore = new Date(Date.now() - HOUR_MS)
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS) }
}

/** The client certificate's validity window for `opts` (exported for tests). */
export function clientValidity(opts: TestPkiOptions): Validity {
  const days = opts.days ?? 365
  if (opts.notBefore) return { notBefore: opts.notBefore, notAfter: new Date(opts.notBefore.getTime() + days * DAY_MS) }
  if (days > 0) return validFor(days)
  // Already expired: it ended |days| days ago (at least a minute ago for days = 0), lasted a day.
  const notAfter = new Date(Date.now() + Math.min(days * DAY_MS, -60_000))
  return { notBefore: new Date(notAfter.getTime() - DAY_MS), notAfter }
}

function issue(subject: Subject, validity: Validity, issuer?: Issuer): Issued {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
  })
  const forgeKey = forge.pki.privateKeyFromPem(privateKey)
  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey)
  cert.serialNumber = serialNumber()
  cert.validity.notBefore = validity.notBefore
  cert.validity.notAfter = validity.notAfter
  const name = [{ name: 'commonName', value: subject.cn }, { name: 'organizationName', value: 'knack311 sandbox' }]
  cert.setSubject(name)
  cert.setIssuer(issuer ? issuer.cert.subject.attributes : name)
  cert.setExtensions(extensions(subject, cert, issuer))
  cert.sign(issuer?.key ?? forgeKey, forge.md.sha256.create())
  return { cert: forge.pki.certificateToPem(cert), key: privateKey, forgeCert: cert, forgeKey }
}

// forge's extension objects are untyped in @types/node-forge (setExtensions takes any[]).
function extensions(subject: Subject, cert: forge.pki.Certificate, issuer?: Issuer): object[] {
  const exts: object[] = [
    { name: 'subjectKeyIdentifier' },
    {
      name: 'authorityKeyIdentifier',
      keyIdentifier: (issuer?.cert ?? cert).generateSubjectKeyIdentifier().getBytes()
    }
  ]
  if (subject.ca) {
    exts.push(
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
    )
    return exts
  }
  exts.push(
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true }
  )
  if (subject.eku) exts.push({ name: 'extKeyUsage', [subject.eku]: true })
  const altNames = [
    ...(subject.dns ?? []).map((value) => ({ type: 2, value })),
    ...(subject.ips ?? []).map((ip) => ({ type: 7, ip }))
  ]
  if (altNames.length > 0) exts.push({ name: 'subjectAltName', altNames })
  return exts
}

function asIssuer(issued: Issued): Issuer {
  return { cert: issued.forgeCert, key: issued.forgeKey }
}

function pair(issued: Issued): PemPair {
  return { cert: issued.cert, key: issued.key }
}

/** 16 random bytes, high bit cleared so the DER integer stays positive. */
function serialNumber(): string {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0] ?? 0) & 0x7f
  return bytes.toString('hex')
}
