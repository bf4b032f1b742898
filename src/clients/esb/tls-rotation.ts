// Certificates replaced while the service runs (the City has had re-issues and expiries). The
// files are polled — fs.watch misses files replaced by rename and secrets mounted through
// symlinks (Kubernetes swaps a ..data link) — and a change is acted on once the files have stayed
// the same for one more poll, so a cert and key copied one after the other are judged together.
// A good new set gets a new undici Agent for new connections; the old Agent is closed gracefully,
// so requests in flight on it finish. A bad set is refused: the old one stays in use.
import type { Logger } from 'pino'
import type { Agent } from 'undici'
import type { Events } from '../../events/types.js'
import type { CertificateStatus, RefusedCertificate } from './types.js'
import { checkTls, digestOf, readTlsFiles, type TlsPaths, type TlsTexts } from './tls-material.js'

export interface TlsRotationOptions {
  paths: TlsPaths
  /** What the client starts with (read by loadConfig at start-up). */
  initial: TlsTexts
  /** false with ESB_AUTH=basic: no client certificate. */
  clientCertificate: boolean
  /** How often to look at the files; 0 = never (tests, or no paths). */
  pollMs: number
  makeAgent(texts: TlsTexts): Agent
  clock: () => Date
  logger?: Logger | undefined
  events?: Events | undefined
}

export interface TlsRotation {
  /** The Agent for new requests. */
  agent(): Agent
  status(): CertificateStatus
  /** Look at the files now (the poll calls this; tests may too). Resolves when done. */
  check(): Promise<void>
  close(): Promise<void>
}

export function createTlsRotation(opts: TlsRotationOptions): TlsRotation {
  const { clock, logger: log } = opts
  let agent = opts.makeAgent(opts.initial)
  let inUseDigest = digestOf(opts.initial)
  let status = initialStatus(opts)
  /** Digest seen at the previous poll that differs from the one in use: waiting to be stable. */
  let pendingDigest: string | undefined
  let refusedDigest: string | undefined
  const retiring = new Set<Promise<void>>()
  let checking: Promise<void> | undefined
  let closed = false

  async function look(): Promise<void> {
    const { texts, unreadable } = await readTlsFiles(opts.paths)
    if (closed) return
    const digest = digestOf(texts)
    if (digest === inUseDigest || digest === refusedDigest) {
      pendingDigest = undefined
      return
    }
    if (digest !== pendingDigest) {
      pendingDigest = digest
      return
    }
    pendingDigest = undefined
    const now = clock()
    const verdict = unreadable.length > 0 ? { ok: false as const, reason: unreadable.join('; '), certificate: undefined } : checkTls(texts, opts.paths, now)
    if (!verdict.ok) {
      refusedDigest = digest
      const refused: RefusedCertificate = { at: now, reason: verdict.reason, subject: verdict.certificate?.subject, expiresAt: verdict.certificate?.expiresAt }
      status = { ...status, refused }
      log?.warn({ reason: verdict.reason, subject: refused.subject }, 'new ESB certificate files refused; the current ones stay in use')
      opts.events?.emit({ type: 'certificate.refused', at: now, reason: verdict.reason })
      return
    }
    const old = agent
    agent = opts.makeAgent(texts)
    inUseDigest = digest
    refusedDigest = undefined
    const c = verdict.certificate
    status = {
      used: opts.clientCertificate,
      inUse: c ? { subject: c.subject, expiresAt: c.expiresAt, fingerprint: c.fingerprint, since: now } : status.inUse
    }
    retire(old)
    log?.info({ subject: c?.subject, expiresAt: c?.expiresAt.toISOString() }, 'new ESB certificate files in use for new connections')
    if (c) opts.events?.emit({ type: 'certificate.replaced', at: now, subject: c.subject, expiresAt: c.expiresAt })
  }

  /** Requests in flight on the old Agent finish there; it closes once they have. */
  function retire(old: Agent): void {
    const p: Promise<void> = old
      .close()
      .catch((err: unknown) => log?.warn({ err: (err as Error).message }, 'closing the previous ESB connection pool failed'))
      .finally(() => retiring.delete(p))
    retiring.add(p)
  }

  function check(): Promise<void> {
    // One look at a time: a slow disk must not let two polls interleave.
    checking ??= look()
      .catch((err: unknown) => log?.warn({ err: (err as Error).message }, 'could not check the ESB certificate files'))
      .finally(() => (checking = undefined))
    return checking
  }

  const watched = opts.paths.cert !== undefined || opts.paths.ca !== undefined
  const timer = opts.pollMs > 0 && watched ? setInterval(() => void check(), opts.pollMs) : undefined
  timer?.unref()

  return {
    agent: () => agent,
    status: () => status,
    check,
    async close() {
      closed = true
      if (timer) clearInterval(timer)
      await checking
      await Promise.allSettled([agent.close(), ...retiring])
    }
  }
}

function initialStatus(opts: TlsRotationOptions): CertificateStatus {
  if (!opts.clientCertificate) return { used: false }
  const verdict = checkTls(opts.initial, opts.paths, opts.clock())
  const c = verdict.certificate
  return {
    used: true,
    inUse: c ? { subject: c.subject, expiresAt: c.expiresAt, fingerprint: c.fingerprint, since: opts.clock() } : undefined,
    problem: verdict.ok ? undefined : verdict.reason
  }
}
