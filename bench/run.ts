// `npm run bench` — the service measured against Knack's limit, today's sequential script, a bare
// Fastify route and its own targets; prints a table and writes BENCHMARKS.md and
// bench/results.json. `npm run bench -- --quick` is a much smaller run (figures only indicative;
// it writes bench/results-quick.json and leaves BENCHMARKS.md alone unless --write is given).
//
// --only=sweep runs the sweep phase alone: the service at Knack 50, 300 and 600 ms (jittered) and
// the sequential script beside it.
// Flags: --quick, --only=sweep,flaky,latency,intake,memory,ledger, --write, --no-write, --tsx (service
// children run src/ through tsx instead of the compiled build; not for the memory phase),
// --no-profile, --render (rewrite BENCHMARKS.md from bench/results.json without measuring),
// --merge (with --only: put the phases measured into the last bench/results.json, keep the rest).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { BUILD_DIR, compileService } from './build.js'
import { runFsyncBench } from './fsync-bench.js'
import { runIntakeBench } from './intake-bench.js'
import { runLedgerBench } from './ledger-bench.js'
import { runLatencyBench } from './latency-bench.js'
import { loadNow, machine } from './machine.js'
import { runQueuedMemory, runSweepScale } from './memory-bench.js'
import { summarizeProfile } from './profile-summary.js'
import { productionNodeFlags, ROOT, useServiceCli } from './proc.js'
import { renderMarkdown, renderTable, type BenchResults } from './report.js'
import { runServiceSweep, runServiceSweepInChild, startSequentialScript, type SweepScenario, type SweepSide } from './sweep-bench.js'

/** Knack latencies the service's sweep runs at (section 1): Knack answers in 300–600 ms in practice. */
const SWEEP_LATENCIES_MS = [50, 300, 600]
/** The limiter's defaults (KNACK_ARRIVAL_SPREAD, transport.ts), for the bound they impose. */
const DEFAULT_ARRIVAL_SPREAD_MS = 20
const DEFAULT_MARGIN_MS = 5

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    write: { type: 'boolean' },
    'no-write': { type: 'boolean', default: false },
    tsx: { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
    render: { type: 'boolean', default: false },
    merge: { type: 'boolean', default: false }
  }
})

const quick = values.quick === true
const phases = new Set((values.only ?? 'sweep,flaky,latency,intake,memory,ledger').split(',').map((p) => p.trim()))
const writeJson = values['no-write'] !== true
const writeMarkdown = writeJson && (values.write ?? !quick)

/** Sizes of each run: the full bench (< 10 min on 2 cores) and --quick (about a minute). */
const SIZES = quick
  ? { sweepN: 100, sweepDeadlineMs: 90_000, latencyN: 50, intakeS: 3, intakeWarmup: 300, queuedN: 5_000, holdMs: 3_000, scaleN: [500, 2_000], fsyncCommits: 50, ledgerOld: 95_000, ledgerYoung: 5_000, ledgerPerFilter: 10 }
  : { sweepN: 1_000, sweepDeadlineMs: 480_000, latencyN: 300, intakeS: 10, intakeWarmup: 2_000, queuedN: 100_000, holdMs: 8_000, scaleN: [1_000, 10_000], fsyncCommits: 200, ledgerOld: 1_000_000, ledgerYoung: 50_000, ledgerPerFilter: 40 }

const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`)

async function main(): Promise<void> {
  const started = performance.now()
  const results: BenchResults = {
    mode: quick ? 'quick' : 'full',
    command: `npm run bench${quick ? ' -- --quick' : ''}`,
    machine: machine(),
    serviceBuild: values.tsx ? 'tsx' : 'compiled',
    serviceNodeFlags: productionNodeFlags(),
    wallSeconds: 0
  }
  log(`service node flags: ${results.serviceNodeFlags?.join(' ') || '(none)'}`)
  log(`machine: ${results.machine.cores} cores, ${results.machine.cpuModel}, load ${results.machine.loadAverage.start.join(' ')}`)

  if (!values.tsx) {
    log('compiling the service (tsc → node_modules/.cache/knack311-bench)')
    const build = await compileService()
    if (build.typeErrors) log(`tsc reported type errors (the build is used anyway):\n${build.typeErrors}`)
    useServiceCli(build.cli)
  }

  results.fsync = runFsyncBench(SIZES.fsyncCommits)
  log(`fsync: ${results.fsync.fullMsPerCommit.toFixed(2)} ms per FULL commit, ${results.fsync.normalMsPerCommit.toFixed(3)} ms per NORMAL commit`)

  // (1) The sequential script runs in its own process for minutes; everything else runs beside it.
  // Knack's latency: a 20 ms network leg (before Knack counts the request) and Knack's work, each ±30 %.
  const scenario: SweepScenario = { n: SIZES.sweepN, srs: 150, knackLatencyMs: 50, knackNetworkMs: 20, knackJitter: 0.3, knackSeed: 311, knackRate: 10, esbLatencyMs: 300, deadlineMs: SIZES.sweepDeadlineMs }
  let script: ReturnType<typeof startSequentialScript> | undefined
  if (phases.has('sweep')) {
    log(`sweep: ${scenario.n} records over ${scenario.srs} SRs; the sequential script starts in a child process`)
    script = startSequentialScript(scenario)
    script.catch(() => undefined) // awaited below; keep an early failure from being unhandled
    // The service's sweep at Knack latencies of 50, 300 and 600 ms, one after the other (together
    // they last about as long as the script beside them), each on its own simulators with the
    // service in a child process. Not at once: the simulators' event loop is where Knack "counts"
    // a request, and three stacks' ESB TLS and message checks on it delayed that moment by up to
    // ~100 ms on this shared machine (429s that no real network would cause; BENCHMARKS.md, section 1).
    const latencies = SWEEP_LATENCIES_MS.map((ms) => ({ ...scenario, knackLatencyMs: ms, knackSeed: 311 + ms }))
    log(`sweep (service): Knack ${SWEEP_LATENCIES_MS.join(', ')} ms (±${(scenario.knackJitter ?? 0) * 100} %, ${scenario.knackNetworkMs} ms one way), one after the other`)
    const sides: SweepSide[] = []
    for (const s of latencies) sides.push(await runServiceSweepInChild(s))
    const atLatency = latencies.map((s, i) => ({ knackLatencyMs: s.knackLatencyMs, service: sides[i] as SweepSide }))
    for (const x of atLatency) {
      log(`sweep (service, Knack ${x.knackLatencyMs} ms): ${x.service.seconds.toFixed(1)} s, ${x.service.recordsPerSecond.toFixed(2)} records/s, ${(x.service.fractionOfBound * 100).toFixed(1)} % of the bound, ${x.service.rateLimited} 429s, at most ${x.service.maxInAnyWindow} in 1 s`)
    }
    const service = atLatency.find((x) => x.knackLatencyMs === scenario.knackLatencyMs)?.service ?? (sides[0] as SweepSide)
    results.sweep = { scenario, service, atLatency, arrivalSpreadMs: DEFAULT_ARRIVAL_SPREAD_MS, marginMs: DEFAULT_MARGIN_MS }
  }

  // (1b) The same sweep with half of all requests answered 404 No such path (today's gateway).
  if (phases.has('flaky')) {
    const gateway = { notFound: 0.5, seed: 29228 }
    let clean = results.sweep?.service
    if (!clean) {
      log(`flaky: ${scenario.n} records without faults first, for the comparison`)
      clean = await runServiceSweep(scenario)
    }
    log(`flaky: ${scenario.n} records, ${gateway.notFound * 100} % of ESB requests answered 404 No such path`)
    const flaky = await runServiceSweep(scenario, gateway)
    results.flaky = { scenario, notFound: gateway.notFound, seed: gateway.seed, clean, flaky, ratio: flaky.seconds / clean.seconds }
    log(`flaky: ${flaky.seconds.toFixed(1)} s against ${clean.seconds.toFixed(1)} s without faults (× ${results.flaky.ratio.toFixed(3)}), ${flaky.notFoundAnswers} 404s, ${flaky.dead} dead, ${flaky.esbReceived} at the ESB`)
  }

  if (phases.has('latency')) {
    log(`latency: ${SIZES.latencyN} webhooks one at a time`)
    results.latency = await runLatencyBench({ webhooks: SIZES.latencyN, knackRate: 1000 })
    log(`latency: p50 ${results.latency.p50Ms} ms, p99 ${results.latency.p99Ms} ms`)
  }

  if (phases.has('intake')) {
    log(`intake: ~${SIZES.intakeS} s per target, 32 connections`)
    results.intake = await runIntakeBench({ durationS: SIZES.intakeS, warmupRequests: SIZES.intakeWarmup, maxRequests: 100_000, connections: 32, pacedRate: 3000 })
    const paced = results.intake.paced
    log(`intake: ${results.intake.service.requestsPerSecond.toFixed(0)}/s (bare ${results.intake.bare.requestsPerSecond.toFixed(0)}/s), p99 ${results.intake.service.p99Ms} ms saturated; paced at ${paced?.offeredPerSecond ?? 0}/s: ${paced?.requestsPerSecond.toFixed(0) ?? '-'}/s, p99 ${paced?.p99Ms ?? '-'} ms; ${results.intake.accepted202} 202s, ${results.intake.deliveriesOnDisk} on disk`)
  }

  if (phases.has('memory')) {
    const sweeps = []
    for (const n of SIZES.scaleN) {
      log(`memory: sweep of ${n} records, Knack limit raised to 2000/s`)
      const r = await runSweepScale(n, 150, 2000, 300_000)
      log(`memory: sweep ${n}: ${r.seconds.toFixed(1)} s, peak RSS ${r.memory.peakRssMB.toFixed(0)} MB`)
      sweeps.push(r)
    }
    const profileDir = join(BUILD_DIR, 'profiles')
    const profiling = !values['no-profile']
    if (profiling) mkdirSync(profileDir, { recursive: true })
    log(`memory: ${SIZES.queuedN} webhooks queued (worker off${profiling ? ', CPU profile on' : ''}), then held with the worker on and the ESB down`)
    const queued = await runQueuedMemory(SIZES.queuedN, 150, SIZES.holdMs, profiling && !values.tsx ? profileDir : undefined)
    log(`memory: queued ${queued.onDisk}: peak RSS ${queued.memory.peakRssMB.toFixed(0)} MB (intake, ${queued.intakePerSecond.toFixed(0)}/s), ${queued.holdMemory.peakRssMB.toFixed(0)} MB (hold, /healthz p99 ${queued.healthP99Ms.toFixed(0)} ms)`)
    results.memory = { queued, sweeps, knackRate: 2000 }
    if (profiling) {
      const newest = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).sort().pop()
      if (newest) {
        const file = join(profileDir, newest)
        results.profile = { file: file.replace(`${ROOT}/`, ''), run: `${SIZES.queuedN.toLocaleString('en-US')} webhooks (the queued-memory run, worker off)`, ...summarizeProfile(file, { window: /^webhook@.*intake/, top: 12 }) }
      }
    }
  }

  if (phases.has('ledger')) {
    log(`ledger: GET /deliveries by filter at ${(SIZES.ledgerOld + SIZES.ledgerYoung).toLocaleString('en-US')} rows, then a prune of the ${SIZES.ledgerOld.toLocaleString('en-US')} old ones under /healthz`)
    results.ledger = await runLedgerBench({ oldRows: SIZES.ledgerOld, youngRows: SIZES.ledgerYoung, perFilter: SIZES.ledgerPerFilter, pruneDeadlineMs: 15 * 60_000 }, log)
  }

  if (script && results.sweep) {
    log('sweep: waiting for the sequential script')
    const s = await script
    results.sweep.script = s
    results.sweep.ratio = results.sweep.service.recordsPerSecond / s.recordsPerSecond
    log(`sweep (script): ${s.seconds.toFixed(1)} s, ${s.recordsPerSecond.toFixed(2)} records/s; service ÷ script = ${results.sweep.ratio.toFixed(2)}`)
  }

  results.machine.loadAverage.end = loadNow()
  results.wallSeconds = (performance.now() - started) / 1000
  console.log(renderTable(results))
  if (writeJson) {
    const json = join(ROOT, 'bench', quick ? 'results-quick.json' : 'results.json')
    const written = values.merge ? merged(json, results) : results
    writeFileSync(json, `${JSON.stringify(written, null, 2)}\n`)
    if (writeMarkdown) writeFileSync(join(ROOT, 'BENCHMARKS.md'), renderMarkdown(written))
    log(`wrote ${json.replace(ROOT, '')}${writeMarkdown ? ' and BENCHMARKS.md' : ''}`)
  }
  log(`done in ${results.wallSeconds.toFixed(0)} s`)
}

/** What each phase writes into the results (fsync belongs with intake, the profile with memory). */
const PHASE_KEYS = { sweep: ['sweep'], flaky: ['flaky'], latency: ['latency'], intake: ['intake', 'fsync'], memory: ['memory', 'profile'], ledger: ['ledger'] } as const

/** --merge: the last results with the phases of this run put in (and this run noted in `partial`). */
function merged(json: string, fresh: BenchResults): BenchResults {
  const last = JSON.parse(readFileSync(json, 'utf8')) as BenchResults
  const out: BenchResults = { ...last }
  const put = <K extends keyof BenchResults>(key: K) => {
    if (fresh[key] !== undefined) out[key] = fresh[key]
  }
  for (const phase of phases) for (const key of PHASE_KEYS[phase as keyof typeof PHASE_KEYS] ?? []) put(key)
  const m = fresh.machine
  out.partial = [...(last.partial ?? []), { phases: [...phases], command: `${fresh.command} -- --only=${[...phases].join(',')} --merge`, date: m.date, loadAverage: m.loadAverage, wallSeconds: fresh.wallSeconds }]
  return out
}

/** --render: rewrite BENCHMARKS.md from bench/results.json (the last full run) without measuring. */
function render(): void {
  const results = JSON.parse(readFileSync(join(ROOT, 'bench', 'results.json'), 'utf8')) as BenchResults
  writeFileSync(join(ROOT, 'BENCHMARKS.md'), renderMarkdown(results))
  console.log(renderTable(results))
}

;(values.render ? Promise.resolve().then(render) : main()).catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
