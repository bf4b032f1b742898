// knack311 serve | sweep <app> | preview <app> <record-id> | check <app> | replay <app> | prune |
// export | alert-test | sandbox [--serve] [--esb flaky]. Output meant for people goes to stdout; logs and progress to stderr.
import { parseArgs } from 'node:util'
import { alertTestCommand } from './cli/alert-test-command.js'
import {
  appNamed,
  buildOneShot,
  cliOperator,
  deliveredWithProgress,
  exportCommand,
  pruneCommand,
  replayCommand,
  reportOutcomes,
  UsageError
} from './cli/ledger-commands.js'
import { createProgress } from './cli/progress.js'
import { createKnackClient } from './clients/knack/client.js'
import { parseDuration } from './config/duration.js'
import { loadConfig } from './config/load.js'
import { parseActivity } from './message/activity.js'
import { planMessage } from './message/plan.js'
import { serve } from './server.js'

const USAGE = `usage:
  knack311 serve                       run the service
  knack311 sweep <app> [--timeout 10m] sweep one app, deliver, exit 0 when all were sent or skipped
  knack311 preview <app> <record-id>   print the XML that would be sent
  knack311 check <app>                 validate the app file against the Knack object's fields
  knack311 replay <app> --since <time> [--until <time>] [--sr <n>] [--dry-run] [--timeout 10m]
                                       send again what the ESB accepted in [since, until), as Knack holds it now
  knack311 prune [--older-than 90d] [--dry-run] [--vacuum]
                                       delete sent/skipped deliveries older than that (default RETENTION)
  knack311 export [--app --status --sr --record --since --until --q --limit] > deliveries.csv
                                       the deliveries as CSV on stdout
  knack311 alert-test                  send a test alert to every configured channel, exit 0 when all took it
  knack311 sandbox [--serve] [--esb flaky]
                                       run everything locally against simulators (no credentials);
                                       --esb flaky: the ESB behaves like today's gateway (404s, time-outs)
Times: ISO 8601 (2026-11-28T14:00, with or without an offset; the first app's zone when absent) or relative (24h, 7d).`

async function sweepCommand(appName: string | undefined, timeout: string): Promise<number> {
  const config = loadConfig(process.env)
  const app = appNamed(config, appName)
  const oneShot = await buildOneShot(config, { startWorker: true })
  try {
    const progress = createProgress(process.stderr)
    const reading = progress.phase(`sweep ${app.name}: records read`)
    const result = await oneShot.service.service.ops.sweep(app, cliOperator(), { trigger: 'cli', onFound: (found) => reading.update(found, null) })
    reading.end()
    console.log(`sweep ${app.name}: found ${result.found}, queued ${result.queued}, duplicates ${result.duplicates}, invalid ${result.invalid}`)
    return reportOutcomes(oneShot, await deliveredWithProgress(oneShot, result.deliveryIds, parseDuration(timeout), progress))
  } finally {
    await oneShot.service.close()
  }
}

async function previewCommand(appName: string | undefined, recordId: string | undefined): Promise<number> {
  const config = loadConfig(process.env, { need: 'knack' })
  const app = appNamed(config, appName)
  if (!recordId) throw new UsageError('missing <record-id>')
  const knack = createKnackClient({ baseUrl: config.knackApiUrl, rateLimit: config.knackRateLimit, arrivalSpreadMs: config.knackArrivalSpreadMs })
  try {
    const parsed = parseActivity(app, await knack.readRecord(app, recordId))
    if (!parsed.ok) {
      for (const p of parsed.problems) console.error(`${p.field}: ${p.message}`)
      return 1
    }
    const plan = planMessage(app, parsed.activity, new Date())
    if (plan.kind === 'skip') {
      console.error(`not sent: ${plan.reason}`)
      return 1
    }
    console.log(plan.xml)
    return 0
  } finally {
    await knack.close()
  }
}

async function checkCommand(appName: string | undefined): Promise<number> {
  const config = loadConfig(process.env, { need: 'knack' })
  const app = appNamed(config, appName)
  const knack = createKnackClient({ baseUrl: config.knackApiUrl, rateLimit: config.knackRateLimit, arrivalSpreadMs: config.knackArrivalSpreadMs })
  try {
    const known = new Set((await knack.listFields(app)).map((f) => f.key))
    let missing = 0
    for (const [variable, fieldId] of Object.entries(app.fields)) {
      if (variable === 'id') continue
      const ok = known.has(fieldId)
      if (!ok) missing++
      console.log(`${ok ? 'ok     ' : 'MISSING'} ${variable} → ${fieldId}`)
    }
    console.log(missing === 0 ? `${app.name}: every mapped field exists in ${app.obj}` : `${app.name}: ${missing} mapped field(s) missing from ${app.obj}`)
    return missing === 0 ? 0 : 1
  } finally {
    await knack.close()
  }
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      serve: { type: 'boolean', default: false },
      esb: { type: 'string', default: 'ok' },
      timeout: { type: 'string', default: '10m' },
      help: { type: 'boolean', short: 'h' },
      since: { type: 'string' },
      until: { type: 'string' },
      sr: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'older-than': { type: 'string' },
      vacuum: { type: 'boolean', default: false },
      app: { type: 'string' },
      status: { type: 'string' },
      record: { type: 'string' },
      q: { type: 'string' },
      limit: { type: 'string' }
    }
  })
  const [command, ...rest] = positionals
  if (values.help || !command) {
    console.log(USAGE)
    return command || values.help ? 0 : 2
  }
  switch (command) {
    case 'serve':
      await serve(loadConfig(process.env))
      return -1
    case 'sweep':
      return sweepCommand(rest[0], values.timeout)
    case 'preview':
      return previewCommand(rest[0], rest[1])
    case 'check':
      return checkCommand(rest[0])
    case 'alert-test':
      return alertTestCommand()
    case 'replay':
      return replayCommand(rest[0], { since: values.since, until: values.until, sr: values.sr, dryRun: values['dry-run'], timeoutMs: parseDuration(values.timeout) })
    case 'prune':
      return pruneCommand({ olderThan: values['older-than'], dryRun: values['dry-run'], vacuum: values.vacuum })
    case 'export':
      return exportCommand({ app: values.app, status: values.status, sr: values.sr, record: values.record, since: values.since, until: values.until, q: values.q, limit: values.limit })
    case 'sandbox': {
      const { runSandbox, SANDBOX_ESB_MODES } = await import('./sandbox/demo.js')
      const esb = SANDBOX_ESB_MODES.find((m) => m === values.esb)
      if (!esb) throw new UsageError(`--esb must be one of ${SANDBOX_ESB_MODES.join(', ')}`)
      return runSandbox({ serve: values.serve, esb })
    }
    default:
      throw new UsageError(`unknown command "${command}"`)
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code
  },
  (err: unknown) => {
    // A bad flag value (a time, a filter) is the caller's mistake like a usage error, without the usage.
    const invalidInput = (err as { code?: unknown }).code === 'INVALID_INPUT'
    if (err instanceof UsageError) console.error(`knack311: ${err.message}\n${USAGE}`)
    else console.error(`knack311: ${(err as Error).message}`)
    process.exitCode = err instanceof UsageError || invalidInput ? 2 : 1
  }
)
