// Everything on this machine: a Knack simulator holding the real apps' objects and views, a
// mutual-TLS ESB simulator with certificates made on the spot, and the real service wired to
// them through its ordinary configuration path. The sandbox demo and the tests use this.
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { pino, type Logger } from 'pino'
import { buildApp, type AppDeps } from '../app.js'
import { loadConfig } from '../config/load.js'
import type { AppConfig, Config } from '../config/types.js'
import { createDeps } from '../deps.js'
import { createMetrics } from '../observability/metrics.js'
import { generateTestPki, writeTestPki, type TestPki, type TestPkiPaths } from './certs.js'
import { startEsbSimulator, type EsbSimulator, type EsbSimulatorOptions } from './esb-simulator.js'
import { activityRecord, fieldsOf, type ActivityInput } from './knack-records.js'
import { startKnackSimulator, type KnackSimulator, type KnackSimulatorOptions } from './knack-simulator.js'

/** The shipped app files: config/apps beside package.json (the same from src/ and dist/). */
export const SHIPPED_APPS_DIR = new URL('../../config/apps', import.meta.url).pathname

export interface StackOptions {
  /** Where certificates (and a sqlite file, by default) go; a new temp dir when absent. */
  dir?: string
  knack?: KnackSimulatorOptions
  esbLatencyMs?: number
  /** More for the ESB simulator: Basic credentials, optional client certificates, today's flaky gateway. */
  esb?: Pick<EsbSimulatorOptions, 'basic' | 'clientCertificate' | 'flaky'>
  /** ESB_ENDPOINT: the simulator's /AcceptKnack (default) or the gateway's /ws/rest/v1/knack/submitKnack/. */
  esbPath?: 'simulator' | 'gateway'
  /** The certificates (default: a new test PKI). */
  pki?: TestPki
  /** How often the service looks at the certificate files (default 5 s). */
  esbCertPollMs?: number
  /** Extra or overriding environment variables for the service (e.g. RETRY_SCHEDULE). */
  env?: Record<string, string>
  logger?: Logger
  /** false: build nothing but the simulators and the env (for tests that run child processes). */
  buildService?: boolean
  startWorker?: boolean
  /** The service's clock (tests that move time, e.g. session expiry); the real one by default. */
  clock?: () => Date
  /** Parts to use instead of createDeps' (alert channels trusting a test CA, alert options, ...). */
  deps?: Partial<AppDeps>
}

export interface Stack {
  dir: string
  pki: TestPki
  paths: TestPkiPaths
  knackSim: KnackSimulator
  esbSim: EsbSimulator
  /** The environment the service is configured from (secrets included: test/sandbox only). */
  env: Record<string, string>
  config: Config
  app: FastifyInstance | undefined
  deps: AppDeps | undefined
  /** Put activity records into the simulator for an app; returns them as Knack holds them. */
  seed(appName: string, activities: ActivityInput[]): void
  appConfig(appName: string): AppConfig
  close(): Promise<void>
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'knack311-'))
  const pki = opts.pki ?? generateTestPki()
  const paths = writeTestPki(join(dir, 'certs'), pki)
  const knackSim = await startKnackSimulator(opts.knack)
  const esbSim = await startEsbSimulator({ pki, latencyMs: opts.esbLatencyMs, ...opts.esb })

  const env: Record<string, string> = {
    KNACK_APP_ID: 'sandbox-app',
    KNACK_API_KEY: `sandbox-key-${randomBytes(8).toString('hex')}`,
    KNACK_API_URL: knackSim.url,
    ESB_ENDPOINT: opts.esbPath === 'gateway' ? esbSim.gatewayUrl : esbSim.url,
    ESB_CERT: paths.clientCert,
    ESB_KEY: paths.clientKey,
    ESB_CA: paths.caCert,
    ESB_TIMEOUT: '5s',
    WEBHOOK_SECRET: `webhook-${randomBytes(8).toString('hex')}`,
    ADMIN_TOKEN: `admin-${randomBytes(8).toString('hex')}`,
    DATABASE_URL: `sqlite:${join(dir, 'knack311.sqlite')}`,
    RETRY_SCHEDULE: '100ms,200ms,400ms,800ms',
    APPS_DIR: SHIPPED_APPS_DIR,
    LOG_LEVEL: 'silent',
    ...opts.env
  }
  // cwd = the temp dir: no stray .env file of the developer's is read.
  const config = loadConfig(env, { cwd: dir })
  registerApps(knackSim, config)

  let app: FastifyInstance | undefined
  let deps: AppDeps | undefined
  if (opts.buildService !== false) {
    const logger = opts.logger ?? pino({ level: 'silent' })
    const made = await createDeps(config, logger, createMetrics({ defaultMetrics: false }), { esbCertPollMs: opts.esbCertPollMs })
    if (opts.deps?.alertChannels) await made.alertChannels?.close()
    deps = { ...made, clock: opts.clock, ...opts.deps, startWorker: opts.startWorker }
    app = await buildApp(config, deps)
    await app.ready()
  }

  const appConfig = (name: string) => {
    const a = config.apps.get(name)
    if (!a) throw new Error(`no app ${name}`)
    return a
  }
  return {
    dir, pki, paths, knackSim, esbSim, env, config, app, deps,
    appConfig,
    seed(appName, activities) {
      const a = appConfig(appName)
      knackSim.seed(a.credentials.appId, a.obj, activities.map((x) => activityRecord(a, x)))
    },
    async close() {
      await app?.close()
      await Promise.allSettled([knackSim.close(), esbSim.close()])
    }
  }
}

/** One simulator app per Knack application id, holding every app file's object and view. */
function registerApps(sim: KnackSimulator, config: Config): void {
  const byAppId = new Map<string, AppConfig[]>()
  for (const a of config.apps.values()) byAppId.set(a.credentials.appId, [...(byAppId.get(a.credentials.appId) ?? []), a])
  for (const [appId, apps] of byAppId) {
    sim.addApp({
      appId,
      apiKey: apps[0]?.credentials.apiKey ?? '',
      objects: Object.fromEntries(apps.map((a) => [a.obj, fieldsOf(a)])),
      views: apps.map((a) => ({ scene: a.scene, view: a.view, obj: a.obj }))
    })
  }
}
