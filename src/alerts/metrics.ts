// Prometheus counters for alerts, on the app's registry: written by kind, sends by kind, channel
// and outcome, and each channel's backlog read from the outbox at scrape time.
import { Counter, Gauge, type Registry } from 'prom-client'
import type { AlertStore } from '../ledger/alert-types.js'

export type SendOutcome = 'sent' | 'retry' | 'failed' | 'expired'

export interface AlertMetrics {
  written: Counter<'event'>
  sends: Counter<'event' | 'channel' | 'outcome'>
}

export function createAlertMetrics(registry: Registry, store: AlertStore, channels: readonly string[]): AlertMetrics {
  const registers = [registry]
  new Gauge({
    name: 'knack311_alert_sends_pending',
    help: 'Alerts waiting to go out, by channel (a growing number: the channel is failing)',
    labelNames: ['channel'],
    registers,
    async collect() {
      const queues = await store.channelQueues()
      for (const channel of new Set([...channels, ...queues.map((q) => q.channel)])) {
        this.set({ channel }, queues.find((q) => q.channel === channel)?.pending ?? 0)
      }
    }
  })
  return {
    written: new Counter({
      name: 'knack311_alerts_total',
      help: 'Alerts written to the outbox by this process, by event',
      labelNames: ['event'],
      registers
    }),
    sends: new Counter({
      name: 'knack311_alert_sends_total',
      help: 'Alert sends by event, channel and outcome (sent, retry, failed = refused by the channel, expired = given up)',
      labelNames: ['event', 'channel', 'outcome'],
      registers
    })
  }
}
