// `knack311 alert-test`: one test alert to every configured channel, straight to the channels
// (not through the outbox, so it works even when the database does not), and which worked.
import type { Config } from '../config/types.js'
import type { AlertChannels } from './channels/create.js'
import { renderAlert } from './render.js'
import { createScrub, secretsOf } from './scrub.js'
import { firstTimezone } from './service.js'

export interface ChannelResult {
  channel: string
  ok: boolean
  /** Why it failed (never a secret). */
  error?: string | undefined
}

export async function sendTestAlert(config: Config, channels: AlertChannels, by: string, now: Date): Promise<ChannelResult[]> {
  const scrub = createScrub(secretsOf(config))
  const message = renderAlert(
    { id: null, kind: 'test', dedupeKey: `test:${now.toISOString()}`, payload: { by }, createdAt: now },
    { timezone: firstTimezone(config), publicUrl: config.publicUrl, scrub }
  )
  return Promise.all(
    channels.list.map(async (c): Promise<ChannelResult> => {
      try {
        await c.send(message)
        return { channel: c.name, ok: true }
      } catch (err) {
        return { channel: c.name, ok: false, error: scrub(err instanceof Error ? err.message : String(err)) }
      }
    })
  )
}
