// A stored alert → the message people read (title, summary, facts, items, links), one renderer per
// kind. Pure: the clock, zone and base URL come in. Every string leaves through `scrub`.
import type { StoredAlert } from '../ledger/alert-types.js'
import { count, duration, localTime, plural } from './format.js'
import { readAlertData, type AlertData, type DeadDelivery, type PayloadOf } from './kinds.js'
import type { AlertItem, AlertLink, AlertMessage, Severity } from './message.js'
import { scrubDeep, type Scrub } from './scrub.js'

export interface RenderContext {
  /** Times are shown in this zone (the first app's). */
  timezone: string
  /** The service's external URL without a trailing slash: links appear only when it is set. */
  publicUrl?: string | undefined
  scrub: Scrub
}

type Body = Pick<AlertMessage, 'severity' | 'title' | 'summary' | 'facts' | 'items' | 'moreItems' | 'links'>

/** An alert to render: a stored one, or the test alert (no id: it is never stored). */
export type RenderableAlert = Pick<StoredAlert, 'kind' | 'dedupeKey' | 'payload' | 'createdAt'> & { id: number | null }

export function renderAlert(alert: RenderableAlert, ctx: RenderContext): AlertMessage {
  const data = readAlertData(alert.kind, alert.payload)
  const body = data ? bodyOf(data, ctx) : unknownKind(alert.kind)
  const message: AlertMessage = {
    id: alert.id,
    kind: alert.kind,
    key: alert.dedupeKey,
    ...body,
    createdAt: alert.createdAt.toISOString(),
    data: alert.payload
  }
  return scrubDeep(message, ctx.scrub)
}

function bodyOf(data: AlertData, ctx: RenderContext): Body {
  switch (data.kind) {
    case 'deliveries.dead':
      return dead(data.payload, ctx)
    case 'esb.paused':
      return paused(data.payload, ctx)
    case 'esb.resumed':
      return resumed(data.payload, ctx)
    case 'knack.credentials_refused':
      return credentialsRefused(data.payload, ctx)
    case 'knack.plan_low':
      return planLow(data.payload, ctx)
    case 'certificate.expiring':
      return certificateExpiring(data.payload, ctx)
    case 'certificate.replaced':
      return simple('info', 'The ESB client certificate was replaced', 'New connections to the ESB use the new certificate.', [
        { name: 'Subject', value: data.payload.subject },
        { name: 'Expires', value: localTime(data.payload.expiresAt, ctx.timezone) }
      ], ctx)
    case 'certificate.refused':
      return simple(
        'critical',
        'A replacement ESB client certificate was refused',
        'The files ESB_CERT/ESB_KEY point at changed but could not be used; the previous certificate stays in use. Fix the files before the old certificate expires.',
        [{ name: 'Reason', value: data.payload.reason }],
        ctx
      )
    case 'delivery.stuck':
      return stuck(data.payload, ctx)
    case 'delivery.unstuck':
      return simple(
        'resolved',
        `Deliveries are moving again: none has waited over ${duration(data.payload.stuckAfterMs)}`,
        `The backlog that began at ${localTime(data.payload.since, ctx.timezone)} has cleared.`,
        [
          { name: 'Stuck since', value: localTime(data.payload.since, ctx.timezone) },
          { name: 'Cleared', value: localTime(data.payload.clearedAt, ctx.timezone) },
          { name: 'For', value: duration(Date.parse(data.payload.clearedAt) - Date.parse(data.payload.since)) }
        ],
        ctx
      )
    case 'digest':
      return digest(data.payload, ctx)
    case 'test':
      return simple('info', 'Test alert from knack311', `Sent by knack311 alert-test (${data.payload.by}) to check this channel. Nothing is wrong.`, [], ctx)
  }
}

const consoleUrl = (ctx: RenderContext, path = ''): string | undefined => (ctx.publicUrl ? `${ctx.publicUrl}/console${path}` : undefined)

function links(ctx: RenderContext, ...extra: Array<[string, string | undefined]>): AlertLink[] {
  const all: Array<[string, string | undefined]> = [...extra, ['Open the console', consoleUrl(ctx)]]
  return all.flatMap(([label, url]) => (url ? [{ label, url }] : []))
}

function simple(severity: Severity, title: string, summary: string, facts: Body['facts'], ctx: RenderContext): Body {
  return { severity, title, summary, facts, items: [], moreItems: 0, links: links(ctx) }
}

function unknownKind(kind: string): Body {
  return { severity: 'info', title: `knack311 alert: ${kind}`, summary: 'An alert this version of knack311 does not know how to show.', facts: [], items: [], moreItems: 0, links: [] }
}

function deadLine(d: DeadDelivery, ctx: RenderContext): AlertItem {
  return {
    text: `${d.app} · record ${d.recordId} · SR ${d.srNumber} · delivery ${d.id}: ${d.reason}`,
    url: consoleUrl(ctx, `/deliveries/${d.id}`)
  }
}

function dead(p: PayloadOf<'deliveries.dead'>, ctx: RenderContext): Body {
  const apps = Object.entries(p.apps).sort(([a], [b]) => a.localeCompare(b))
  return {
    severity: 'critical',
    title: `${plural(p.count, 'delivery', 'deliveries')} went dead`,
    summary:
      'These activities will not reach 311 unless someone acts: fix the cause (the reason on each line), then retry them from the console or with POST /deliveries/:id/retry.',
    facts: apps.map(([app, n]) => ({ name: app, value: `${count(n)} dead` })),
    items: p.deliveries.map((d) => deadLine(d, ctx)),
    moreItems: Math.max(0, p.count - p.deliveries.length),
    links: links(ctx, ['Dead deliveries', consoleUrl(ctx, '/deliveries?status=dead')])
  }
}

function paused(p: PayloadOf<'esb.paused'>, ctx: RenderContext): Body {
  return simple(
    'critical',
    'Sending to the ESB is paused',
    'The ESB endpoint itself keeps failing, so sending stopped without using up any delivery\'s attempts. Nothing is lost: intake goes on, one delivery is tried every ESB_PROBE_EVERY, and the first success resumes sending.',
    [
      { name: 'Paused since', value: localTime(p.since, ctx.timezone) },
      { name: 'Last error', value: p.lastError }
    ],
    ctx
  )
}

function resumed(p: PayloadOf<'esb.resumed'>, ctx: RenderContext): Body {
  const pausedFor = duration(Date.parse(p.resumedAt) - Date.parse(p.pausedSince))
  return simple(
    'resolved',
    `Sending to the ESB resumed after ${pausedFor}`,
    'The ESB accepted a message again; the deliveries that waited are being sent.',
    [
      { name: 'Paused since', value: localTime(p.pausedSince, ctx.timezone) },
      { name: 'Resumed', value: localTime(p.resumedAt, ctx.timezone) },
      { name: 'Paused for', value: pausedFor },
      ...(p.lastError ? [{ name: 'Last error', value: p.lastError }] : [])
    ],
    ctx
  )
}

function credentialsRefused(p: PayloadOf<'knack.credentials_refused'>, ctx: RenderContext): Body {
  return simple(
    'critical',
    `Knack refused the credentials of ${p.app} (HTTP ${p.status})`,
    'Records cannot be read or marked SENT. Check the Knack application id and API key (KNACK_APP_ID/KNACK_API_KEY, or the variables the app file names under credentials).',
    [
      { name: 'App', value: p.app },
      { name: 'HTTP status', value: String(p.status) },
      { name: 'Knack said', value: p.message }
    ],
    ctx
  )
}

function planLow(p: PayloadOf<'knack.plan_low'>, ctx: RenderContext): Body {
  const share = p.limit > 0 ? Math.round((p.remaining / p.limit) * 1000) / 10 : 0
  return simple(
    'warning',
    `Knack's daily plan is nearly used up: ${count(p.remaining)} of ${count(p.limit)} calls left`,
    'When the plan runs out, Knack refuses every request until it resets: deliveries wait and are retried. Consider pausing sweeps or raising the plan.',
    [
      { name: 'App', value: p.app },
      { name: 'Calls left', value: `${count(p.remaining)} (${share} %)` }
    ],
    ctx
  )
}

function certificateExpiring(p: PayloadOf<'certificate.expiring'>, ctx: RenderContext): Body {
  const expired = p.daysLeft <= 0
  // Rounded up: 6.9 days left reads "7 days", the threshold it was sent for.
  const days = Math.max(1, Math.ceil(p.daysLeft))
  return simple(
    expired || p.threshold <= 1 ? 'critical' : 'warning',
    expired ? 'The ESB client certificate has expired' : `The ESB client certificate expires in ${plural(days, 'day')}`,
    expired
      ? 'The ESB will refuse every message until a new certificate is in place (replace the files ESB_CERT/ESB_KEY point at; no restart needed).'
      : 'Ask for a new certificate and replace the files ESB_CERT/ESB_KEY point at before then; no restart is needed.',
    [
      { name: 'Subject', value: p.subject },
      { name: 'Expires', value: localTime(p.expiresAt, ctx.timezone) }
    ],
    ctx
  )
}

function stuck(p: PayloadOf<'delivery.stuck'>, ctx: RenderContext): Body {
  const o = p.oldest
  return {
    severity: 'warning',
    title: `A delivery has waited over ${duration(p.stuckAfterMs)}`,
    summary: `The oldest undelivered delivery was queued at ${localTime(o.createdAt, ctx.timezone)} and is still ${o.status}. The ESB may be paused or Knack failing; its attempts say why.`,
    facts: [
      { name: 'App', value: o.app },
      { name: 'Waiting since', value: localTime(o.createdAt, ctx.timezone) },
      { name: 'Status', value: o.status }
    ],
    items: [{ text: `${o.app} · record ${o.recordId} · SR ${o.srNumber} · delivery ${o.id}`, url: consoleUrl(ctx, `/deliveries/${o.id}`) }],
    moreItems: 0,
    links: links(ctx)
  }
}

function digest(p: PayloadOf<'digest'>, ctx: RenderContext): Body {
  const items: AlertItem[] = p.apps.map((a) => {
    const oldest = a.oldest ? `; oldest waiting since ${localTime(a.oldest.createdAt, ctx.timezone)} (delivery ${a.oldest.id})` : ''
    const stuckText = a.stuck > 0 ? `, ${count(a.stuck)} waiting over ${duration(p.stuckAfterMs)}` : ''
    return {
      text: `${a.app}: ${count(a.sent)} sent, ${count(a.skipped)} skipped, ${count(a.dead)} dead, ${count(a.pending)} still pending${stuckText}${oldest}`,
      url: a.oldest ? consoleUrl(ctx, `/deliveries/${a.oldest.id}`) : undefined
    }
  })
  for (const pause of p.pauses) {
    const end = pause.resumedAt ? `to ${localTime(pause.resumedAt, ctx.timezone)} (${duration(Date.parse(pause.resumedAt) - Date.parse(pause.since))})` : 'and still paused'
    items.push({ text: `ESB paused from ${localTime(pause.since, ctx.timezone)} ${end}${pause.lastError ? `: ${pause.lastError}` : ''}` })
  }
  const total = (k: 'sent' | 'skipped' | 'dead' | 'pending') => p.apps.reduce((n, a) => n + a[k], 0)
  const trouble = total('dead') > 0 || p.pauses.length > 0 || p.apps.some((a) => a.stuck > 0)
  return {
    severity: trouble ? 'warning' : 'info',
    title: `knack311 daily summary for ${p.date}`,
    summary: `From ${localTime(p.from, ctx.timezone)} to ${localTime(p.to, ctx.timezone)}: ${count(total('sent'))} sent, ${count(total('skipped'))} skipped, ${count(total('dead'))} dead; ${count(total('pending'))} pending now; ${plural(p.pauses.length, 'ESB pause')}.`,
    facts: [
      { name: 'Sent', value: count(total('sent')) },
      { name: 'Skipped', value: count(total('skipped')) },
      { name: 'Dead', value: count(total('dead')) },
      { name: 'Still pending', value: count(total('pending')) },
      { name: 'ESB pauses', value: count(p.pauses.length) }
    ],
    items,
    moreItems: 0,
    links: links(ctx, ['Dead deliveries', total('dead') > 0 ? consoleUrl(ctx, '/deliveries?status=dead') : undefined])
  }
}
