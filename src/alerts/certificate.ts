// The ESB client certificate's expiry: an alert at 14, 7 and 1 days before it ends and once it
// has ended, each once per certificate (its fingerprint is in the key), so a replaced certificate
// starts afresh and a restart repeats nothing.
import type { EsbClient } from '../clients/esb/types.js'
import type { NewAlert } from '../ledger/alert-types.js'
import type { PayloadOf } from './kinds.js'

export interface WatchedCertificate {
  subject: string
  expiresAt: Date
  fingerprint: string
}

/** The certificate in use now, or null when there is none to watch (ESB_AUTH=basic, unreadable:
 *  /readyz reports those). */
export type CertificateSource = () => Promise<WatchedCertificate | null>

/** Days before expiry that alert, latest first; 0 = expired. */
export const EXPIRY_THRESHOLDS = [14, 7, 1] as const
const DAY_MS = 86_400_000

/** The alert due for `cert` at `now`: only the nearest threshold passed (a certificate found with 5
 *  days left alerts "7 days", not also "14"). Null when more than 14 days are left. */
export function expiryAlert(cert: WatchedCertificate, now: Date): NewAlert | null {
  const daysLeft = (cert.expiresAt.getTime() - now.getTime()) / DAY_MS
  if (daysLeft > EXPIRY_THRESHOLDS[0]) return null
  const threshold = daysLeft <= 0 ? 0 : ([...EXPIRY_THRESHOLDS].reverse().find((t) => daysLeft <= t) ?? EXPIRY_THRESHOLDS[0])
  const payload: PayloadOf<'certificate.expiring'> = {
    subject: cert.subject,
    expiresAt: cert.expiresAt.toISOString(),
    daysLeft: Math.round(daysLeft * 100) / 100,
    threshold
  }
  return { kind: 'certificate.expiring', dedupeKey: `certificate.expiring:${cert.fingerprint}:${threshold}`, payload }
}

/** The certificate the ESB client presents now (a replacement it took counts from the moment it
 *  took it); none with ESB_AUTH=basic. */
export function certificateInUse(esb: Pick<EsbClient, 'certificate'>): CertificateSource {
  return async () => {
    const status = esb.certificate()
    const c = status.used ? status.inUse : undefined
    return c ? { subject: c.subject, expiresAt: c.expiresAt, fingerprint: c.fingerprint } : null
  }
}
