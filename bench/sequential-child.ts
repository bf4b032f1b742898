// Runs today's algorithm (sequential-script.ts) in its own process against its own Knack and ESB
// simulators, and prints one `RESULT {json}` line. A separate process so that it shares no event
// loop with the service's sweep or with the load generators of later phases.
import { readFileSync } from 'node:fs'
import { readyActivities } from './records.js'
import { runSequentialScript } from './sequential-script.js'
import { startStack } from '../src/sandbox/stack.js'
import { knackOptions, type SweepScenario } from './sweep-bench.js'

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as SweepScenario
  const stack = await startStack({
    buildService: false,
    knack: knackOptions(args),
    esbLatencyMs: args.esbLatencyMs
  })
  try {
    const app = stack.appConfig('data-tracker')
    stack.seed('data-tracker', readyActivities(args.n, args.srs, 'a'))
    const run = await runSequentialScript({
      app,
      knackUrl: stack.knackSim.url,
      esb: { url: stack.esbSim.url, cert: readFileSync(stack.paths.clientCert, 'utf8'), key: readFileSync(stack.paths.clientKey, 'utf8'), ca: readFileSync(stack.paths.caCert, 'utf8') },
      deadlineMs: args.deadlineMs
    })
    const sim = stack.knackSim.stats()
    const markedSent = stack.knackSim.records(app.credentials.appId, app.obj).filter((r) => r[app.fields.esb_status] === app.statuses.sent).length
    process.stdout.write(
      `RESULT ${JSON.stringify({ ...run, simRequests: sim.requests, simRateLimited: sim.rateLimited, maxInAnyWindow: sim.maxInAnyWindow, esbReceived: stack.esbSim.received.length, markedSent })}\n`
    )
  } finally {
    await stack.close()
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
