// Every kind of alert and the data it carries, as stored in the outbox (plain JSON, dates as ISO
// strings). Checked with zod when read back, so a row an older or newer version wrote is shown
// as what it is rather than breaking the sender.
import { z } from 'zod'

const iso = z.string()

export const deadDeliverySchema = z.object({
  id: z.number(),
  app: z.string(),
  recordId: z.string(),
  srNumber: z.string(),
  reason: z.string(),
  at: iso
})
export type DeadDelivery = z.infer<typeof deadDeliverySchema>

export const pendingHeadSchema = z.object({
  id: z.number(),
  app: z.string(),
  recordId: z.string(),
  srNumber: z.string(),
  status: z.string(),
  createdAt: iso
})
export type PendingHeadData = z.infer<typeof pendingHeadSchema>

export const digestAppSchema = z.object({
  app: z.string(),
  sent: z.number(),
  skipped: z.number(),
  dead: z.number(),
  pending: z.number(),
  stuck: z.number(),
  oldest: pendingHeadSchema.nullable()
})

export const digestPauseSchema = z.object({ since: iso, resumedAt: iso.nullable(), lastError: z.string().nullable() })

const alertData = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('deliveries.dead'),
    payload: z.object({
      /** Every delivery gathered, including those not listed. */
      count: z.number(),
      /** The first ones (at most MAX_LISTED_DEAD), oldest first. */
      deliveries: z.array(deadDeliverySchema),
      /** Count per app, of all of them. */
      apps: z.record(z.string(), z.number())
    })
  }),
  z.object({ kind: z.literal('esb.paused'), payload: z.object({ since: iso, lastError: z.string() }) }),
  z.object({ kind: z.literal('esb.resumed'), payload: z.object({ pausedSince: iso, resumedAt: iso, lastError: z.string().nullable() }) }),
  z.object({ kind: z.literal('knack.credentials_refused'), payload: z.object({ app: z.string(), status: z.number(), message: z.string() }) }),
  z.object({ kind: z.literal('knack.plan_low'), payload: z.object({ app: z.string(), remaining: z.number(), limit: z.number() }) }),
  z.object({
    kind: z.literal('certificate.expiring'),
    payload: z.object({ subject: z.string(), expiresAt: iso, daysLeft: z.number(), threshold: z.number() })
  }),
  z.object({ kind: z.literal('certificate.replaced'), payload: z.object({ subject: z.string(), expiresAt: iso }) }),
  z.object({ kind: z.literal('certificate.refused'), payload: z.object({ reason: z.string() }) }),
  z.object({ kind: z.literal('delivery.stuck'), payload: z.object({ since: iso, stuckAfterMs: z.number(), oldest: pendingHeadSchema }) }),
  z.object({ kind: z.literal('delivery.unstuck'), payload: z.object({ since: iso, clearedAt: iso, stuckAfterMs: z.number() }) }),
  z.object({
    kind: z.literal('digest'),
    payload: z.object({
      /** The local date the summary was due on (YYYY-MM-DD in `timezone`). */
      date: z.string(),
      timezone: z.string(),
      from: iso,
      to: iso,
      stuckAfterMs: z.number(),
      apps: z.array(digestAppSchema),
      pauses: z.array(digestPauseSchema)
    })
  }),
  z.object({ kind: z.literal('test'), payload: z.object({ by: z.string() }) })
])

export type AlertData = z.infer<typeof alertData>
export type AlertKind = AlertData['kind']
export type PayloadOf<K extends AlertKind> = Extract<AlertData, { kind: K }>['payload']

export const ALERT_KINDS = alertData.options.map((o) => o.shape.kind.value) as readonly AlertKind[]

/** The alert as stored, typed; undefined for a kind or shape this version does not know. */
export function readAlertData(kind: string, payload: unknown): AlertData | undefined {
  const parsed = alertData.safeParse({ kind, payload })
  return parsed.success ? parsed.data : undefined
}

/** A dead-delivery alert lists at most this many; the count and per-app totals cover the rest. */
export const MAX_LISTED_DEAD = 100
