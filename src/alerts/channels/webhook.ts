// Any URL that takes JSON (ALERT_WEBHOOK_URL): knack311's own documented shape (README, "Alerts"),
// one POST per alert, the alert's key also in an Idempotency-Key header so a receiver can drop a
// repeat (a crash between the POST and its being marked sent can send it twice).
import type { AlertMessage } from '../message.js'
import { checkAnswer, type HttpPoster } from './http.js'
import type { AlertChannel } from './types.js'

/** Raised when the shape changes in a way a receiver must know about. */
export const WEBHOOK_SCHEMA_VERSION = 1

export interface WebhookAlert {
  source: 'knack311'
  schema_version: number
  id: number | null
  key: string
  kind: string
  severity: AlertMessage['severity']
  title: string
  summary: string
  facts: AlertMessage['facts']
  items: AlertMessage['items']
  more_items: number
  links: AlertMessage['links']
  created_at: string
  data: Record<string, unknown>
}

export function webhookAlert(m: AlertMessage): WebhookAlert {
  return {
    source: 'knack311',
    schema_version: WEBHOOK_SCHEMA_VERSION,
    id: m.id,
    key: m.key,
    kind: m.kind,
    severity: m.severity,
    title: m.title,
    summary: m.summary,
    facts: m.facts,
    items: m.items,
    more_items: m.moreItems,
    links: m.links,
    created_at: m.createdAt,
    data: m.data
  }
}

export function createWebhookChannel(url: string, http: HttpPoster): AlertChannel {
  return {
    name: 'webhook',
    async send(m) {
      checkAnswer('The alert webhook', await http.postJson(url, webhookAlert(m), { 'idempotency-key': m.key }))
    },
    close: () => Promise.resolve()
  }
}
