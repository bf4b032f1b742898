// One stored alert of every kind, as the service writes them, for the renderer, channel and
// secret tests. `secretText` is woven into the texts other systems write (an ESB error, Knack's
// message, a refused certificate's reason) to prove the scrubber catches a secret they echo.
import { ALERT_KINDS, type AlertKind, type PayloadOf } from '../../src/alerts/kinds.js'
import type { StoredAlert } from '../../src/ledger/alert-types.js'

const T = Date.parse('2026-11-28T13:05:00.000Z')
const iso = (offsetMs: number) => new Date(T + offsetMs).toISOString()

export function deadDeliveries(n: number, secretText = ''): PayloadOf<'deliveries.dead'>['deliveries'] {
  return Array.from({ length: n }, (_, i) => ({
    id: 100 + i,
    app: i % 3 === 0 ? 'signs-markings' : 'data-tracker',
    recordId: `5d79${String(i).padStart(20, '0')}`,
    srNumber: `26-00${String(417731 + i)}`,
    reason: `ESB: HTTP 500 env:Client: Internal Error${i === 0 && secretText ? ` ${secretText}` : ''} <script>alert(1)</script>`,
    at: iso(i * 1000)
  }))
}

export function samplePayloads(secretText = ''): { [K in AlertKind]: PayloadOf<K> } {
  const dead = deadDeliveries(12, secretText)
  const extra = secretText ? ` ${secretText}` : ''
  return {
    'deliveries.dead': { count: 12, deliveries: dead, apps: { 'data-tracker': 8, 'signs-markings': 4 } },
    'esb.paused': { since: iso(0), lastError: `HTTP 503 Service Unavailable${extra}` },
    'esb.resumed': { pausedSince: iso(0), resumedAt: iso(5_025_000), lastError: `connection refused${extra}` },
    'knack.credentials_refused': { app: 'data-tracker', status: 401, message: `Invalid API key${extra}` },
    'knack.plan_low': { app: 'data-tracker', remaining: 1500, limit: 25_000 },
    'certificate.expiring': { subject: 'CN=knack311-client, O=knack311 sandbox', expiresAt: iso(7 * 86_400_000), daysLeft: 6.9, threshold: 7 },
    'certificate.replaced': { subject: 'CN=knack311-client, O=knack311 sandbox', expiresAt: iso(365 * 86_400_000) },
    'certificate.refused': { reason: `ESB_KEY does not match ESB_CERT${extra}` },
    'delivery.stuck': {
      since: iso(3_600_000),
      stuckAfterMs: 3_600_000,
      oldest: { id: 77, app: 'data-tracker', recordId: '5d79aaaa', srNumber: '26-00417731', status: 'failed', createdAt: iso(0) }
    },
    'delivery.unstuck': { since: iso(3_600_000), clearedAt: iso(9_000_000), stuckAfterMs: 3_600_000 },
    digest: {
      date: '2026-11-28',
      timezone: 'America/Chicago',
      from: iso(-86_400_000),
      to: iso(0),
      stuckAfterMs: 3_600_000,
      apps: [
        { app: 'data-tracker', sent: 120, skipped: 3, dead: 1, pending: 4, stuck: 1, oldest: { id: 88, app: 'data-tracker', recordId: '5d79bbbb', srNumber: '26-00417800', status: 'queued', createdAt: iso(-7_200_000) } },
        { app: 'signs-markings', sent: 0, skipped: 0, dead: 0, pending: 0, stuck: 0, oldest: null }
      ],
      pauses: [{ since: iso(-40_000_000), resumedAt: iso(-36_000_000), lastError: `HTTP 404 No such path${extra}` }]
    },
    test: { by: 'admin' }
  }
}

/** Every kind as a stored alert with ids 1..n. */
export function sampleAlerts(secretText = ''): StoredAlert[] {
  const payloads = samplePayloads(secretText)
  return ALERT_KINDS.map((kind, i) => ({
    id: i + 1,
    kind,
    dedupeKey: `${kind}:sample`,
    payload: payloads[kind] as Record<string, unknown>,
    createdAt: new Date(T + i)
  }))
}
