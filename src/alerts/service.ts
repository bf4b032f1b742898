// Alerts, wired: events and periodic checks write to the outbox (the ledger), one loop sends
// what is due to every configured channel. The worker only emits events; it never waits here.
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { Config } from '../config/types.js'
import type { Events, ServiceEvent } from '../events/types.js'
import type { AlertStore, NewAlert } from '../ledger/alert-types.js'
import type { CertificateSource } from './certificate.js'
import type { AlertChannels } from './channels/create.js'
import { createChecks } from './checks.js'
import { outboxWriteFor, type EventContext } from './from-events.js'
import { createAlertMetrics } from './metrics.js'
import { alertOverview, type AlertOverview } from './overview.js'
import { renderAlert, type RenderContext } from './render.js'
import { createScrub, secretsOf } from './scrub.js'
import { createSender } from './sender.js'

export interface AlertOptions {
  /** How often the checks run and the sender looks for due alerts when nothing wakes it. */
  tickMs: number
  /** A send is leased this long; longer than any channel's timeout. */
  leaseMs: number
  backoffBaseMs: number
  backoffMaxMs: number
  maxAgeMs: number
  certificateEveryMs: number
  /** Overrides ALERT_GROUP_WINDOW (tests). */
  groupWindowMs?: number | undefined
  random?: (() => number) | undefined
}

export const DEFAULT_ALERT_OPTIONS: AlertOptions = {
  tickMs: 2000,
  leaseMs: 120_000,
  backoffBaseMs: 5000,
  backoffMaxMs: 600_000,
  maxAgeMs: 2 * 86_400_000,
  certificateEveryMs: 3_600_000
}

export interface AlertServiceDeps {
  config: Config
  store: AlertStore
  channels: AlertChannels
  events: Events
  clock: () => Date
  logger: Logger
  registry: Registry
  certificate?: CertificateSource | undefined
  options?: Partial<AlertOptions> | undefined
  /** A single-process store (SQLite): sends a crashed process had leased are due at start. */
  ownsAllLeases?: boolean | undefined
}

export interface AlertService {
  /** Channel names alerts are written for. */
  readonly channels: readonly string[]
  start(): void
  /** Run the checks and a send round now (tests drive this with an injected clock). */
  tick(): Promise<void>
  /** What the console and GET /alerts show. */
  overview(limit: number): Promise<AlertOverview>
  /** Resolves once every event heard so far is in the outbox (or failed to get there). */
  flushed(): Promise<void>
  /** Stop the loop; wait (bounded) for writes and sends in flight; close the channels. */
  stop(graceMs: number): Promise<void>
}

export function firstTimezone(config: Config): string {
  return config.apps.values().next().value?.timezone ?? 'UTC'
}

export function createAlertService(deps: AlertServiceDeps): AlertService {
  const options = { ...DEFAULT_ALERT_OPTIONS, ...deps.options }
  const { config, store, clock } = deps
  const logger = deps.logger.child({ component: 'alerts' })
  const channelNames = deps.channels.list.map((c) => c.name)
  const timezone = firstTimezone(config)
  const scrub = createScrub(secretsOf(config))
  const renderCtx: RenderContext = { timezone, publicUrl: config.publicUrl, scrub }
  const metrics = createAlertMetrics(deps.registry, store, channelNames)
  const owner = `alerts-${randomUUID()}`
  const writes = new Set<Promise<void>>()
  let running = false
  let loopDone: Promise<void> = Promise.resolve()
  let wakeUp: (() => void) | null = null
  let pendingWake = false

  const wake = () => {
    pendingWake = true
    wakeUp?.()
  }
  const written = (alert: NewAlert) => {
    metrics.written.inc({ event: alert.kind })
    logger.info({ kind: alert.kind, key: alert.dedupeKey }, 'alert written')
    wake()
  }

  const eventCtx: EventContext = { timezone, appName: appNamer(config) }
  const checks = createChecks({
    store,
    channels: channelNames,
    logger,
    timezone,
    apps: [...config.apps.keys()],
    stuckAfterMs: config.alerts.stuckAfterMs,
    groupWindowMs: options.groupWindowMs ?? config.alerts.groupWindowMs,
    digestAt: config.alerts.digestAt,
    certificate: deps.certificate,
    certificateEveryMs: options.certificateEveryMs,
    written
  })
  const sender = createSender({
    store,
    channels: deps.channels.list,
    render: (claim) => renderAlert(claim.alert, renderCtx),
    clock,
    logger,
    metrics,
    scrub,
    owner,
    leaseMs: options.leaseMs,
    backoff: { baseMs: options.backoffBaseMs, maxMs: options.backoffMaxMs, random: options.random },
    maxAgeMs: options.maxAgeMs,
    onSettled: wake
  })

  async function record(event: ServiceEvent): Promise<void> {
    const write = outboxWriteFor(event, eventCtx)
    if (write.to === 'group') {
      await store.addGroupItem(write.group, write.key, write.item, clock(), write.ref)
      return
    }
    if ((await store.add(write.alert, channelNames, clock())).created) written(write.alert)
  }

  // The emitter returns at once: the write runs on its own, tracked so shutdown can wait for it.
  deps.events.on((event) => {
    const p = record(event)
      .catch((err: unknown) => logger.error({ err, event: event.type }, 'could not write the alert to the outbox'))
      .finally(() => writes.delete(p))
    writes.add(p)
  })

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (pendingWake) return resolve()
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        wakeUp = null
        resolve()
      }
      wakeUp = done
    })

  async function tick(): Promise<void> {
    await checks.run(clock())
    try {
      await sender.round()
    } catch (err) {
      logger.warn({ err }, 'claiming alerts to send failed; trying again next tick')
    }
  }

  async function nextSleepMs(): Promise<number> {
    try {
      const due = await store.nextSendDueAt()
      return due ? Math.min(options.tickMs, Math.max(10, due.getTime() - clock().getTime())) : options.tickMs
    } catch {
      return options.tickMs
    }
  }

  async function loop(): Promise<void> {
    if (deps.ownsAllLeases) {
      try {
        const released = await store.releaseForeignLeases(owner, clock())
        if (released > 0) logger.warn({ released }, 'resending alerts an earlier process was sending when it stopped')
      } catch (err) {
        logger.warn({ err }, 'could not release alert leases of an earlier process')
      }
    }
    while (running) {
      pendingWake = false
      await tick()
      if (!running) break
      await sleep(await nextSleepMs())
    }
  }

  return {
    channels: channelNames,
    start() {
      if (running) return
      running = true
      loopDone = loop()
      logger.info({ channels: channelNames }, channelNames.length > 0 ? 'alerts on' : 'alerts recorded, no channel configured')
    },
    tick,
    overview(limit) {
      return alertOverview(store, channelNames, (a) => renderAlert(a, renderCtx), limit)
    },
    async flushed() {
      await Promise.allSettled([...writes])
    },
    async stop(graceMs) {
      running = false
      wake()
      await loopDone
      let timer: NodeJS.Timeout | undefined
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs)
      })
      await Promise.race([Promise.allSettled([...writes]), grace])
      clearTimeout(timer)
      await sender.drain(graceMs)
      await deps.channels.close()
    }
  }
}

/** Events may name a Knack application by its id (a credential, never shown): show the app names. */
function appNamer(config: Config): (idOrName: string) => string {
  return (idOrName) => {
    if (config.apps.has(idOrName)) return idOrName
    const names = [...config.apps.values()].filter((a) => a.credentials.appId === idOrName).map((a) => a.name)
    return names.length > 0 ? names.join(', ') : 'a Knack application'
  }
}
