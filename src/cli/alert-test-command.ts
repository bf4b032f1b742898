// knack311 alert-test: a test alert to every configured channel, a line each, exit 0 only when
// every channel took it (1 when one failed or none is configured).
import { hostname } from 'node:os'
import { sendTestAlert } from '../alerts/alert-test.js'
import { createAlertChannels } from '../alerts/channels/create.js'
import { loadConfig } from '../config/load.js'

export async function alertTestCommand(): Promise<number> {
  const config = loadConfig(process.env, { need: 'knack' })
  const channels = createAlertChannels(config.alerts)
  try {
    if (channels.list.length === 0) {
      console.log('no alert channel is configured (ALERT_SLACK_URL, ALERT_TEAMS_URL, ALERT_WEBHOOK_URL, SMTP_URL)')
      return 1
    }
    const results = await sendTestAlert(config, channels, hostname(), new Date())
    for (const r of results) {
      const detail = r.channel === 'email' && r.ok && config.alerts.email ? ` (${config.alerts.email.to.length} recipient(s))` : ''
      console.log(`${r.channel.padEnd(8)} ${r.ok ? `ok${detail}` : `FAILED ${r.error ?? ''}`}`)
    }
    const failed = results.filter((r) => !r.ok).length
    console.log(failed === 0 ? `every channel took the test alert (${results.length})` : `${failed} of ${results.length} channel(s) failed`)
    return failed === 0 ? 0 : 1
  } finally {
    await channels.close()
  }
}
