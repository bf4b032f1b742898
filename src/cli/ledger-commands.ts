// knack311 replay | prune | export: the twins of POST /apps/:app/replay, the retention prune and
// GET /deliveries.csv, calling the same services. Summary lines go to stdout (export: the CSV);
// progress and logs to stderr. Actions are recorded under "cli:<OS user>".
import { userInfo } from 'node:os'
import { pipeline } from 'node:stream/promises'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { buildApp } from '../app.js'
import { loadConfig } from '../config/load.js'
import type { AppConfig, Config } from '../config/types.js'
import { createDeps } from '../deps.js'
import type { SweepWaitResult } from '../intake/sweep.js'
import { openLedger } from '../ledger/open.js'
import type { Delivery, Ledger } from '../ledger/types.js'
import { createLogger } from '../observability/logger.js'
import { createMetrics } from '../observability/metrics.js'
import { createActionLog } from '../operations/actions.js'
import { createFinder } from '../operations/find.js'
import { readExportQuery } from '../operations/input.js'
import { firstZone } from '../operations/operations.js'
import { createPruner } from '../operations/prune.js'
import { deliveriesCsv } from '../routes/csv.js'
import { createProgress, type ProgressReporter } from './progress.js'

export class UsageError extends Error {}

/** Who the actions log names for the command line. A colon never occurs in an operator's name. */
export function cliOperator(): string {
  try {
    return `cli:${userInfo().username}`
  } catch {
    return 'cli'
  }
}

export function appNamed(config: Config, name: string | undefined): AppConfig {
  if (!name) throw new UsageError('missing <app>')
  const app = config.apps.get(name)
  if (!app) throw new UsageError(`no app named "${name}" (known: ${[...config.apps.keys()].join(', ')})`)
  return app
}

/** Logs to stderr; on a terminal only warnings unless LOG_LEVEL says otherwise, so they do not
 *  break up the progress bar. */
export function cliLogger(config: Config): Logger {
  const level = process.env.LOG_LEVEL === undefined && process.stderr.isTTY ? 'warn' : config.logLevel
  return createLogger({ level, destination: process.stderr, pretty: false })
}

export interface OneShot {
  service: FastifyInstance
  ledger: Ledger
}

/** The service without listening, for commands that deliver (sweep, replay): no daily prune. */
export async function buildOneShot(config: Config, opts: { startWorker: boolean }): Promise<OneShot> {
  const logger = cliLogger(config)
  const deps = await createDeps(config, logger, createMetrics({ defaultMetrics: false }))
  const service = await buildApp(config, { ...deps, startWorker: opts.startWorker, startRetention: false })
  await service.ready()
  return { service, ledger: deps.ledger }
}

/** Wait for `ids` to be delivered (as far as they go now), with a bar of settled deliveries. */
export async function deliveredWithProgress({ service, ledger }: OneShot, ids: number[], timeoutMs: number, progress: ProgressReporter): Promise<SweepWaitResult> {
  const phase = progress.phase('delivering')
  let watching = progress.interactive
  const settledOf = (counts: Partial<Record<Delivery['status'], number>>) =>
    (counts.sent ?? 0) + (counts.skipped ?? 0) + (counts.dead ?? 0) + (counts.failed ?? 0)
  const watch = (async () => {
    // Ends when the wait below ends; each round is one query for all the ids.
    while (watching) {
      phase.update(settledOf(await ledger.statusesOf(ids)), ids.length)
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  })()
  try {
    const waited = await service.service.sweeper.outcomes(ids, timeoutMs)
    phase.update(settledOf(waited.outcomes), ids.length)
    return waited
  } finally {
    watching = false
    await watch.catch(() => undefined)
    phase.end()
  }
}

/** A line per outcome, one if sending to the ESB is paused, and one per delivery not sent or
 *  skipped; exit code 0 when all went. */
export async function reportOutcomes({ service }: OneShot, waited: SweepWaitResult): Promise<number> {
  for (const [status, n] of Object.entries(waited.outcomes)) console.log(`${status}: ${n}`)
  if (!waited.settled) console.log('not settled before the timeout')
  const gate = await service.service.gate.current()
  if (gate.state === 'paused') {
    console.log(`sending to the ESB is paused since ${gate.since?.toISOString() ?? '?'}: ${gate.lastError ?? 'endpoint failing'}; what was queued stays queued for the next run or the service`)
  }
  for (const d of waited.unfinished) {
    console.log(`  delivery ${d.id} record ${d.recordId}: ${d.status}${d.lastError ? ` - ${d.lastError}` : ''}`)
  }
  return waited.unfinished.length === 0 && waited.settled ? 0 : 1
}

export interface ReplayFlags {
  since?: string | undefined
  until?: string | undefined
  sr?: string | undefined
  dryRun: boolean
  timeoutMs: number
}

/** knack311 replay <app> --since <time> [--until <time>] [--sr <n>] [--dry-run] */
export async function replayCommand(appName: string | undefined, flags: ReplayFlags): Promise<number> {
  const config = loadConfig(process.env)
  const app = appNamed(config, appName)
  if (!flags.since) throw new UsageError('missing --since <time>')
  const oneShot = await buildOneShot(config, { startWorker: !flags.dryRun })
  try {
    const progress = createProgress(process.stderr)
    const reading = progress.phase(`replay ${app.name}: read from Knack`)
    const r = await oneShot.service.service.ops.replay(
      app,
      { since: flags.since, until: flags.until, sr: flags.sr, dry_run: flags.dryRun },
      cliOperator(),
      { onProgress: ({ done, total }) => reading.update(done, total) }
    )
    if (!flags.dryRun) reading.end()
    const sr = r.sr === null ? '' : ` SR ${r.sr}`
    console.log(
      flags.dryRun
        ? `replay ${app.name}${sr} [${r.since}, ${r.until}): ${r.matched} activities would be sent again (dry run)`
        : `replay ${app.name}${sr} [${r.since}, ${r.until}): matched ${r.matched}, queued ${r.queued}, duplicates ${r.duplicates}, not found ${r.not_found}, invalid ${r.invalid}`
    )
    if (flags.dryRun || r.deliveries.length === 0) return 0
    return reportOutcomes(oneShot, await deliveredWithProgress(oneShot, r.deliveries, flags.timeoutMs, progress))
  } finally {
    await oneShot.service.close()
  }
}

export interface PruneFlags {
  olderThan?: string | undefined
  dryRun: boolean
  vacuum: boolean
}

/** knack311 prune [--older-than 90d] [--dry-run] [--vacuum] */
export async function pruneCommand(flags: PruneFlags): Promise<number> {
  const config = loadConfig(process.env, { need: 'ledger' })
  const logger = cliLogger(config)
  const ledger = await openLedger(config.databaseUrl, { logger })
  try {
    if (flags.vacuum) {
      const how = await ledger.enableIncrementalVacuum()
      console.log(
        how === 'converted'
          ? 'vacuum: the ledger file now gives pruned space back to the disk (incremental auto-vacuum)'
          : how === 'already'
            ? 'vacuum: the ledger file already gives pruned space back (nothing to do)'
            : 'vacuum: not needed for this database (PostgreSQL reclaims space itself)'
      )
    }
    const clock = () => new Date()
    const pruner = createPruner({ ledger, actions: createActionLog({ ledger, clock, logger }), clock, logger, retentionMs: config.retentionMs })
    const progress = createProgress(process.stderr)
    const phase = progress.phase('prune')
    const r = await pruner.prune({ older_than: flags.olderThan, dry_run: flags.dryRun }, cliOperator(), {
      onProgress: ({ done, total }) => phase.update(done, total)
    })
    if (!flags.dryRun) phase.end()
    console.log(
      flags.dryRun
        ? `prune: ${r.matched} sent/skipped deliveries created before ${r.cutoff} would be deleted (dry run)`
        : `prune: deleted ${r.deleted} sent/skipped deliveries created before ${r.cutoff} and their ${r.attempts} attempts; ${r.reclaimed_pages} pages given back to the disk`
    )
    return r.complete ? 0 : 1
  } finally {
    await ledger.close()
  }
}

export interface ExportFlags {
  app?: string | undefined
  status?: string | undefined
  sr?: string | undefined
  record?: string | undefined
  since?: string | undefined
  until?: string | undefined
  q?: string | undefined
  limit?: string | undefined
}

/** knack311 export [--app … --status … --sr … --record … --since … --until … --q … --limit n] > deliveries.csv */
export async function exportCommand(flags: ExportFlags): Promise<number> {
  const config = loadConfig(process.env, { need: 'ledger' })
  const ledger = await openLedger(config.databaseUrl, { logger: cliLogger(config) })
  try {
    const { filter, limit } = readExportQuery(flags, { zone: firstZone(config.apps), now: new Date() })
    const progress = createProgress(process.stderr)
    // Counting costs a pass over the index: only worth it for a bar someone is watching.
    const total = progress.interactive ? Math.min(await ledger.count(filter), limit ?? Number.POSITIVE_INFINITY) : null
    const phase = progress.phase('export')
    let rows = 0
    async function* counted(): AsyncGenerator<Delivery> {
      for await (const d of createFinder(ledger).stream(filter, { limit })) {
        yield d
        if (++rows % 200 === 0) phase.update(rows, total)
      }
    }
    try {
      await pipeline(deliveriesCsv(counted()), process.stdout)
    } catch (err) {
      // `knack311 export | head`: the reader has had enough; not a failure.
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err
    }
    phase.update(rows, total ?? rows)
    phase.end()
    return 0
  } finally {
    await ledger.close()
  }
}
