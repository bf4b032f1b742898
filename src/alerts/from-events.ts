// What each service event becomes in the outbox, decided here without I/O: an alert with the
// dedupe key that makes it "once per event" across replicas and restarts, or an item parked for
// the next grouped alert (dead deliveries).
import { createHash } from 'node:crypto'
import type { ServiceEvent } from '../events/types.js'
import type { AlertPayload, NewAlert } from '../ledger/alert-types.js'
import type { AlertKind, PayloadOf } from './kinds.js'
import { localDate } from './digest.js'

export const DEAD_GROUP = 'delivery.dead'

export type OutboxWrite =
  | { to: 'alert'; alert: NewAlert }
  | { to: 'group'; group: string; key: string; item: AlertPayload; ref: string }

export interface EventContext {
  /** The first app's zone: "once a day" for Knack's daily plan is a day there. */
  timezone: string
  /** A Knack application id or app name → the app names people know (ids are credentials). */
  appName: (idOrName: string) => string
}

const HOUR_MS = 3_600_000
const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16)

function alert(kind: AlertKind, dedupeKey: string, payload: AlertPayload): OutboxWrite {
  return { to: 'alert', alert: { kind, dedupeKey, payload } }
}

export function outboxWriteFor(event: ServiceEvent, ctx: EventContext): OutboxWrite {
  switch (event.type) {
    case 'delivery.dead': {
      const d = event.delivery
      const item: PayloadOf<'deliveries.dead'>['deliveries'][number] = {
        id: d.id,
        app: d.app,
        recordId: d.recordId,
        srNumber: d.srNumber,
        reason: event.reason,
        at: event.at.toISOString()
      }
      // A delivery retried and dead again is a new item: the time it died is part of the key.
      return { to: 'group', group: DEAD_GROUP, key: `${d.id}:${event.at.getTime()}`, item, ref: String(d.id) }
    }
    case 'esb.paused':
      // The ESB module emits once per pause across replicas; the key makes a repeat harmless.
      return alert('esb.paused', `esb.paused:${event.since.toISOString()}`, { since: event.since.toISOString(), lastError: event.lastError })
    case 'esb.resumed':
      return alert('esb.resumed', `esb.resumed:${event.pausedSince.toISOString()}`, {
        pausedSince: event.pausedSince.toISOString(),
        resumedAt: event.at.toISOString(),
        lastError: event.lastError
      })
    case 'knack.credentials_refused': {
      // Every request fails alike while the key is wrong: one alert per app per hour, not one per request.
      const app = ctx.appName(event.app)
      return alert('knack.credentials_refused', `knack.credentials_refused:${app}:${Math.floor(event.at.getTime() / HOUR_MS)}`, {
        app,
        status: event.status,
        message: event.message
      })
    }
    case 'knack.plan_low': {
      // Knack's plan is daily: one warning per app per day.
      const app = ctx.appName(event.app)
      return alert('knack.plan_low', `knack.plan_low:${app}:${localDate(event.at, ctx.timezone)}`, { app, remaining: event.remaining, limit: event.limit })
    }
    case 'certificate.replaced':
      return alert('certificate.replaced', `certificate.replaced:${event.subject}:${event.expiresAt.toISOString()}`, {
        subject: event.subject,
        expiresAt: event.expiresAt.toISOString()
      })
    case 'certificate.refused':
      // The same broken files are refused at every check: one alert per reason per hour. The key
      // holds a digest of the reason, not the text (which the alert shows scrubbed).
      return alert('certificate.refused', `certificate.refused:${digest(event.reason)}:${Math.floor(event.at.getTime() / HOUR_MS)}`, { reason: event.reason })
  }
}
