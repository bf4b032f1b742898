/**
 * What the ESB made of one message, classed by who is at fault. Never thrown: the worker decides
 * what each means for the delivery.
 * - accepted: the ESB said yes.
 * - record: an answer about this message (a SOAP fault, a 400/413/422): it counts against the
 *   delivery, unless every delivery gets it (the worker's gate judges that).
 * - endpoint: the ESB itself is in trouble (404, 408, 425, 429, 5xx without a fault, 401/403,
 *   time-outs, refused or reset connections, TLS failures): never the record's fault.
 */
export type EsbOutcome =
  | { kind: 'accepted'; status: number; body: string; tries: number }
  | {
      kind: 'record'
      status: number
      faultCode?: string | undefined
      faultString?: string | undefined
      /** One line for the delivery's last_error, e.g. "HTTP 500 env:Client: Internal Error". */
      reason: string
      tries: number
    }
  | {
      kind: 'endpoint'
      /** HTTP status when the ESB answered (404, 503, 401, ...); absent for network failures. */
      status?: number | undefined
      /** Short label for metrics and logs: "http_404", "timeout", "connection_refused", ... */
      label: string
      reason: string
      /** The ESB refused our credentials (HTTP 401/403, or the client certificate at the TLS layer). */
      credentials: boolean
      /** The whole body was sent and no answer came: the ESB may have processed it (unknown outcome). */
      unknownOutcome: boolean
      tries: number
    }

/** The client certificate the ESB client presents, and a replacement it refused, for readiness and alerts. */
export interface CertificateStatus {
  /** false with ESB_AUTH=basic: no client certificate is presented. */
  used: boolean
  inUse?: CertificateInfo | undefined
  /** The pair in use could not be read as a certificate and matching key (start-up files). */
  problem?: string | undefined
  /** The newest replacement found on disk and refused; cleared when a good one is taken. */
  refused?: RefusedCertificate | undefined
}

export interface CertificateInfo {
  subject: string
  expiresAt: Date
  /** SHA-256 fingerprint, to tell certificates apart without showing them. */
  fingerprint: string
  /** When this process started using it. */
  since: Date
}

export interface RefusedCertificate {
  at: Date
  reason: string
  /** Present when the refused certificate itself parsed. */
  subject?: string | undefined
  expiresAt?: Date | undefined
}

export interface EsbClient {
  send(xml: string): Promise<EsbOutcome>
  /** Synchronous snapshot: the certificate in use and any refused replacement. */
  certificate(): CertificateStatus
  close(): Promise<void>
}
