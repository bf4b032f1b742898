// Microsoft Teams workflow webhook (the "Send webhook alerts to a channel" / "Post to a channel
// when a webhook request is received" templates): a message whose attachment is an Adaptive
// Card (application/vnd.microsoft.card.adaptive), the shape those workflows document. The
// workflow answers 202 Accepted. Text the card shows comes as TextRuns, which Teams does not read
// as markdown, so a reason holding `_` or `*` shows as written.
import type { AlertMessage, Severity } from '../message.js'
import { checkAnswer, type HttpPoster } from './http.js'
import type { AlertChannel } from './types.js'

const COLOR: Record<Severity, string> = { critical: 'Attention', warning: 'Warning', info: 'Default', resolved: 'Good' }
/** Lines of a long list shown (a card must stay under Teams' 28 KB). */
export const TEAMS_MAX_ITEMS = 40
const MAX_ACTIONS = 5

export interface TeamsMessage {
  type: 'message'
  attachments: Array<{ contentType: 'application/vnd.microsoft.card.adaptive'; contentUrl: null; content: Record<string, unknown> }>
}

const run = (text: string, extra: Record<string, unknown> = {}) => ({ type: 'TextRun', text, ...extra })

export function teamsMessage(m: AlertMessage): TeamsMessage {
  const body: Array<Record<string, unknown>> = [
    { type: 'TextBlock', text: m.title, size: 'Large', weight: 'Bolder', color: COLOR[m.severity], wrap: true, style: 'heading' },
    { type: 'RichTextBlock', inlines: [run(m.summary)] }
  ]
  if (m.facts.length > 0) body.push({ type: 'FactSet', facts: m.facts.map((f) => ({ title: f.name, value: f.value })) })
  const shown = m.items.slice(0, TEAMS_MAX_ITEMS)
  for (const item of shown) {
    body.push({
      type: 'RichTextBlock',
      spacing: 'Small',
      inlines: [run(`• ${item.text}`), ...(item.url ? [run(' open', { color: 'Accent', selectAction: { type: 'Action.OpenUrl', url: item.url } })] : [])]
    })
  }
  const more = m.moreItems + m.items.length - shown.length
  if (more > 0) body.push({ type: 'TextBlock', text: `and ${more} more`, isSubtle: true, wrap: true })
  body.push({ type: 'TextBlock', text: `knack311 · ${m.kind} · ${m.createdAt}`, isSubtle: true, size: 'Small', wrap: true })
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body,
          actions: m.links.slice(0, MAX_ACTIONS).map((l) => ({ type: 'Action.OpenUrl', title: l.label, url: l.url }))
        }
      }
    ]
  }
}

export function createTeamsChannel(url: string, http: HttpPoster): AlertChannel {
  return {
    name: 'teams',
    async send(m) {
      checkAnswer('Teams', await http.postJson(url, teamsMessage(m)))
    },
    close: () => Promise.resolve()
  }
}
