// Slack incoming webhook (api.slack.com/messaging/webhooks): a JSON body with `text` (the
// notification and fallback) and Block Kit `blocks`, within Block Kit's limits (header 150
// characters, section text 3,000, 10 fields of 2,000, 50 blocks). Slack answers 200 "ok".
import type { AlertMessage, Severity } from '../message.js'
import { checkAnswer, type HttpPoster } from './http.js'
import type { AlertChannel } from './types.js'

const EMOJI: Record<Severity, string> = {
  critical: ':rotating_light:',
  warning: ':warning:',
  info: ':information_source:',
  resolved: ':white_check_mark:'
}

/** Lines of a long list shown; the message says how many more. */
export const SLACK_MAX_ITEMS = 40
const SECTION_LIMIT = 3000
const HEADER_LIMIT = 150
const FIELD_LIMIT = 2000
const MAX_FIELDS = 10

export type SlackBlock = Record<string, unknown>
export interface SlackMessage {
  text: string
  blocks: SlackBlock[]
}

/** Slack's mrkdwn control characters (api.slack.com/reference/surfaces/formatting#escaping). */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

const cut = (text: string, limit: number) => (text.length <= limit ? text : `${text.slice(0, limit - 1)}…`)
const link = (url: string, label: string) => `<${url}|${slackEscape(label).replace(/\|/g, '¦')}>`
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text })

export function slackMessage(m: AlertMessage): SlackMessage {
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(`${EMOJI[m.severity]} ${m.title}`, HEADER_LIMIT), emoji: true } },
    { type: 'section', text: mrkdwn(cut(slackEscape(m.summary), SECTION_LIMIT)) }
  ]
  if (m.facts.length > 0) {
    blocks.push({
      type: 'section',
      fields: m.facts.slice(0, MAX_FIELDS).map((f) => mrkdwn(cut(`*${slackEscape(f.name)}*\n${slackEscape(f.value)}`, FIELD_LIMIT)))
    })
  }
  const shown = m.items.slice(0, SLACK_MAX_ITEMS)
  let section = ''
  for (const item of shown) {
    const line = `• ${slackEscape(cut(item.text, 900))}${item.url ? ` ${link(item.url, 'open')}` : ''}`
    if (section.length + line.length + 1 > SECTION_LIMIT) {
      blocks.push({ type: 'section', text: mrkdwn(section) })
      section = ''
    }
    section += (section ? '\n' : '') + line
  }
  if (section) blocks.push({ type: 'section', text: mrkdwn(section) })
  const more = m.moreItems + m.items.length - shown.length
  const context = [
    ...(more > 0 ? [`and ${more} more`] : []),
    ...m.links.map((l) => link(l.url, l.label)),
    `knack311 · ${slackEscape(m.kind)} · ${m.createdAt}`
  ]
  blocks.push({ type: 'context', elements: [mrkdwn(context.join(' · '))] })
  return { text: cut(`${m.title}: ${m.summary}`, SECTION_LIMIT), blocks }
}

export function createSlackChannel(url: string, http: HttpPoster): AlertChannel {
  return {
    name: 'slack',
    async send(m) {
      checkAnswer('Slack', await http.postJson(url, slackMessage(m)))
    },
    close: () => Promise.resolve()
  }
}
