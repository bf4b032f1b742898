// The service as a child process (`src/cli.ts serve`), for tests that kill and restart it.
// Its JSON log on stdout tells where it listens; the tail of its output is kept for failures.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

/** The project root: where `src/cli.ts` and node_modules (tsx) are. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const KEEP_OUTPUT_CHARS = 20_000

export interface ServiceChild {
  readonly pid: number
  /** http://127.0.0.1:<port> */
  readonly url: string
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<number | string>
  /** Recent stdout+stderr, for a failure message. */
  output(): string
  /** Send `signal` (default SIGKILL) and wait for the exit; no-op when already gone. */
  kill(signal?: NodeJS.Signals): Promise<void>
}

/**
 * Start `knack311 serve` with `env` (a stack's env plus overrides) on a free port of 127.0.0.1.
 * Rejects, with the child's output, when it exits or does not listen within `timeoutMs`.
 */
export async function startServiceChild(env: Record<string, string>, timeoutMs = 30_000): Promise<ServiceChild> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: env.LOG_LEVEL === 'silent' || !env.LOG_LEVEL ? 'info' : env.LOG_LEVEL }
  // The child is a plain production process: no loaders or settings of the test runner.
  delete childEnv.NODE_OPTIONS
  for (const name of Object.keys(childEnv)) if (name.startsWith('TAP')) delete childEnv[name]

  const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const pid = proc.pid
  if (pid === undefined) throw new Error('could not start the service child')

  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-KEEP_OUTPUT_CHARS)
  }
  const exited = once(proc, 'exit').then(([code, signal]) => (signal as string | null) ?? (code as number))
  let gone = false
  void exited.then(() => {
    gone = true
  })

  const url = await new Promise<string>((resolve, reject) => {
    let pending = ''
    const timer = setTimeout(() => fail(`did not listen within ${timeoutMs} ms`), timeoutMs)
    function fail(why: string) {
      clearTimeout(timer)
      proc.kill('SIGKILL')
      reject(new Error(`service child ${why}\n--- its output ---\n${output}`))
    }
    proc.stdout?.on('data', (chunk: Buffer) => {
      keep(chunk)
      pending += chunk.toString('utf8')
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
        if (m?.[1]) {
          clearTimeout(timer)
          resolve(m[1])
        }
      }
    })
    proc.stderr?.on('data', keep)
    void exited.then((how) => fail(`exited (${how}) before listening`))
  })

  return {
    pid,
    url,
    exited,
    output: () => output,
    async kill(signal = 'SIGKILL') {
      if (gone) return
      proc.kill(signal)
      await exited
    }
  }
}
