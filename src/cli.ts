// knack311 serve | sweep <app> | preview <app> <record-id> | check <app> | sandbox [--serve] [--esb flaky]
// Output meant for people goes to stdout; logs go to stderr.
import { parseArgs } from 'node:util'
import { buildApp } from './app.js'
import { createKnackClient } from './clients/knack/client.js'
import { parseDuration } from './config/duration.js'
import { loadConfig } from './config/load.js'
import type { AppConfig, Config } from './config/types.js'
import { createDeps } from './deps.js'
import { parseActivity } from './message/activity.js'
import { planMessage } from './message/plan.js'
import { createLogger } from './observability/logger.js'
import { createMetrics } from './observability/metrics.js'
import { serve } from './server.js'

const USAGE = `usage:
  knack311 serve                       run the service
  knack311 sweep <app> [--timeout 10m] sweep one app, deliver, exit 0 when all were sent or skipped
  knack311 preview <app> <record-id>   print the XML that would be sent
  knack311 check <app>                 validate the app file against the Knack object's fields
  knack311 sandbox [--serve] [--esb flaky]
                                       run everything locally against simulators (no credentials);
                                       --esb flaky: the ESB behaves like today's gateway (404s, time-outs)`

class UsageError extends Error {}

function appNamed(config: Config, name: string | undefined): AppConfig {
  if (!name) throw new UsageError('missing <app>')
  const app = config.apps.get(name)
  if (!app) throw new UsageError(`no app named "${name}" (known: ${[...config.apps.keys()].join(', ')})`)
  return app
}

async function sweepCommand(appName: string | undefined, timeout: string): Promise<number> {
  const config = loadConfig(process.env)
  const app = appNamed(config, appName)
  const logger = createLogger({ level: config.logLevel, destination: process.stderr, pretty: false })
  const metrics = createMetrics({ defaultMetrics: false })
  const service = await buildApp(config, await createDeps(config, logger, metrics))
  try {
    await service.ready()
    const result = await service.service.sweeper.sweep(app, 'cli')
    const waited = await service.service.sweeper.outcomes(result.deliveryIds, parseDuration(timeout))
    console.log(`sweep ${app.name}: found ${result.found}, queued ${result.queued}, duplicates ${result.duplicates}, invalid ${result.invalid}`)
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
  } finally {
    await service.close()
  }
}

async function previewCommand(appName: string | undefined, recordId: string | undefined): Promise<number> {
  const config = loadConfig(process.env, { need: 'knack' })
  const app = appNamed(config, appName)
  if (!recordId) throw new UsageError('missing <record-id>')
  const knack = createKnackClient({ baseUrl: config.knackApiUrl, rateLimit: config.knackRateLimit })
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
  const knack = createKnackClient({ baseUrl: config.knackApiUrl, rateLimit: config.knackRateLimit })
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
      help: { type: 'boolean', short: 'h' }
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
    if (err instanceof UsageError) console.error(`knack311: ${err.message}\n${USAGE}`)
    else console.error(`knack311: ${(err as Error).message}`)
    process.exitCode = err instanceof UsageError ? 2 : 1
  }
)
