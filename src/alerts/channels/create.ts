// The channels ALERT_SLACK_URL, ALERT_TEAMS_URL, ALERT_WEBHOOK_URL and SMTP_URL configure (each
// optional), always in this order.
import type { AlertConfig } from '../../config/types.js'
import { createEmailChannel, type EmailOptions } from './email.js'
import { createHttpPoster, type HttpPoster } from './http.js'
import { createSlackChannel } from './slack.js'
import { createTeamsChannel } from './teams.js'
import type { AlertChannel } from './types.js'
import { createWebhookChannel } from './webhook.js'

export interface ChannelOptions {
  /** The HTTP client for the webhook channels; one with a 10 s timeout when absent. */
  http?: HttpPoster | undefined
  email?: EmailOptions | undefined
}

const HTTP_TIMEOUT_MS = 10_000

/** The configured channels and what closes them (and the HTTP client made for them). */
export interface AlertChannels {
  readonly list: readonly AlertChannel[]
  close(): Promise<void>
}

export function createAlertChannels(config: AlertConfig, opts: ChannelOptions = {}): AlertChannels {
  const needsHttp = Boolean(config.slackUrl || config.teamsUrl || config.webhookUrl)
  const ownHttp = needsHttp && !opts.http ? createHttpPoster({ timeoutMs: HTTP_TIMEOUT_MS }) : undefined
  const http = opts.http ?? ownHttp
  const list: AlertChannel[] = []
  if (http && config.slackUrl) list.push(createSlackChannel(config.slackUrl, http))
  if (http && config.teamsUrl) list.push(createTeamsChannel(config.teamsUrl, http))
  if (http && config.webhookUrl) list.push(createWebhookChannel(config.webhookUrl, http))
  if (config.email) list.push(createEmailChannel(config.email, opts.email))
  return {
    list,
    async close() {
      await Promise.allSettled(list.map((c) => c.close()))
      await ownHttp?.close()
    }
  }
}
