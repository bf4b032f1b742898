// What every alert channel is to the sender: a name and a way to deliver one message. A channel
// throws ALERT_CHANNEL_FAILED (src/errors.ts) saying whether trying again may help.
import type { AlertMessage } from '../message.js'

export const CHANNEL_NAMES = ['slack', 'teams', 'webhook', 'email'] as const
export type ChannelName = (typeof CHANNEL_NAMES)[number]

export interface AlertChannel {
  readonly name: ChannelName
  /** Resolves once the channel took the message (HTTP 2xx, the SMTP server's 250). */
  send(message: AlertMessage): Promise<void>
  close(): Promise<void>
}
