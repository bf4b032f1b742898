// Child processes for the benches: the service (`src/cli.ts serve`) or another bench entry in
// its own Node process, so that load generators never share its event loop; and RSS sampling
// of such a process through /proc.
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { sleep } from './stats.js'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** A free TCP port on 127.0.0.1 (free when asked; the child binds it right after). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export interface Child {
  proc: ChildProcess
  pid: number
  /** Everything the child wrote to stderr (kept to the last 20 kB). */
  stderr(): string
  /** SIGTERM, wait up to `graceMs`, then SIGKILL. Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>
  exited: Promise<number | null>
}

export interface SpawnOptions {
  env: Record<string, string>
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[]
  /** Collect stdout (for bench children that print their result). */
  onStdout?: (chunk: string) => void
}

/** Run a script with node: TypeScript (.ts) through tsx, JavaScript as it is. */
export function spawnNode(script: string, args: string[], opts: SpawnOptions): Child {
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : []
  const proc = spawn(process.execPath, [...(opts.nodeFlags ?? []), ...loader, script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let err = ''
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-20_000)
  })
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => opts.onStdout?.(d))
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  if (proc.pid === undefined) throw new Error(`could not start ${script}`)
  const pid = proc.pid
  return {
    proc,
    pid,
    exited,
    stderr: () => err,
    async stop(graceMs = 30_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode
      proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs)
      const code = await exited
      clearTimeout(timer)
      return code
    }
  }
}

export interface ServiceChild extends Child {
  url: string
}

/** The V8 flags on bin/knack311.js's first line (`#!/usr/bin/env -S node --flag[=value] …`):
 *  `npm start` and the Dockerfile repeat them; test/deploy/node-flags.test.ts keeps them equal. */
export function binNodeFlags(): string[] {
  const first = readFileSync(`${ROOT}bin/knack311.js`, 'utf8').split('\n')[0] ?? ''
  const m = /^#!\/usr\/bin\/env -S node((?: --[\w-]+(?:=\S+)?)*)$/.exec(first)
  if (m === null) throw new Error(`bin/knack311.js's first line is not a node shebang the bench understands: ${first}`)
  return (m[1] ?? '').trim().split(' ').filter((f) => f !== '')
}

/** The V8 flags production starts the service with (binNodeFlags). */
export function productionNodeFlags(): string[] {
  // BENCH_NODE_FLAGS (space-separated, may be empty) replaces them, to measure what they cost.
  const override = process.env.BENCH_NODE_FLAGS
  if (override !== undefined) return override.split(' ').filter((f) => f !== '')
  return binNodeFlags()
}

/** Which CLI the service children run: the compiled one (build.ts) or src/cli.ts through tsx. */
let serviceCli = 'src/cli.ts'
export function useServiceCli(path: string): void {
  serviceCli = path
}

/** The real service (`knack311 serve`) in a child process, listening on a free loopback port,
 *  started with production's V8 flags (productionNodeFlags) before any of `nodeFlags`.
 *  `workerOff`: bench/service-child.mjs instead, the same service with its worker not started
 *  (needs the compiled build). */
export async function spawnService(env: Record<string, string>, nodeFlags: string[] = [], opts: { workerOff?: boolean } = {}): Promise<ServiceChild> {
  const port = await freePort()
  const dist = serviceCli.endsWith('.js') ? dirname(serviceCli) : undefined
  if (opts.workerOff && !dist) throw new Error('a service without its worker needs the compiled build')
  const script = opts.workerOff ? 'bench/service-child.mjs' : serviceCli
  const args = opts.workerOff ? [] : ['serve']
  const child = spawnNode(script, args, {
    env: { ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...(opts.workerOff ? { KNACK311_DIST: dist ?? '', BENCH_WORKER: 'off' } : {}) },
    nodeFlags: [...productionNodeFlags(), ...nodeFlags]
  })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/healthz`, child, 60_000)
  return { ...child, url }
}

/** Wait until GET `url` answers 200, the child dies, or `timeoutMs` passes. */
export async function waitForHttp(url: string, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let dead = false
  void child.exited.then(() => {
    dead = true
  })
  while (Date.now() < deadline) {
    if (dead) throw new Error(`child exited before answering ${url}: ${child.stderr().slice(-2000)}`)
    try {
      const res = await request(url)
      await res.body.dump()
      if (res.statusCode === 200) return
    } catch {
      // not listening yet
    }
    await sleep(100)
  }
  await child.stop(2000)
  throw new Error(`${url} did not answer within ${timeoutMs} ms: ${child.stderr().slice(-2000)}`)
}

interface MemStatus {
  rss: number
  anon: number
  file: number
  hwm: number
}

/** RSS of a process from /proc/<pid>/status, in bytes: total, anonymous (heap, native
 *  allocations) and file-backed (mostly the node binary's pages); zeros once it is gone. */
export function memOf(pid: number): MemStatus {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)\\s+kB`).exec(status)?.[1] ?? 0) * 1024
    return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), hwm: kb('VmHWM') }
  } catch {
    return { rss: 0, anon: 0, file: 0, hwm: 0 }
  }
}

export function rssOf(pid: number): number {
  return memOf(pid).rss
}

export interface RssPeak {
  /** Highest RSS sampled, and its anonymous and file-backed parts at that sample, in bytes. */
  peakSampled: number
  anonAtPeak: number
  fileAtPeak: number
  /** The kernel's own high-water mark (VmHWM), which no sampling interval can miss. */
  peakKernel: number
  samples: number
}

export interface RssSampler {
  stop(): RssPeak
}

/** Sample a process's RSS every `everyMs` (50 ms by default) until stop(). */
export function sampleRss(pid: number, everyMs = 50): RssSampler {
  const peak: RssPeak = { peakSampled: 0, anonAtPeak: 0, fileAtPeak: 0, peakKernel: 0, samples: 0 }
  let stopped = false
  const tick = () => {
    const m = memOf(pid)
    if (m.rss === 0) return
    peak.samples++
    peak.peakKernel = Math.max(peak.peakKernel, m.hwm)
    if (m.rss > peak.peakSampled) Object.assign(peak, { peakSampled: m.rss, anonAtPeak: m.anon, fileAtPeak: m.file })
  }
  tick()
  const timer = setInterval(tick, everyMs)
  return {
    stop() {
      if (!stopped) {
        stopped = true
        clearInterval(timer)
        tick()
      }
      return { ...peak }
    }
  }
}
