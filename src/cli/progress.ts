// Progress of a long command: a bar (cli-progress) when stderr is a terminal, and otherwise —
// cron, CI, a pipe — nothing while it runs and one plain line when a phase ends. stdout is left
// to the command's own output (the summary lines, or the CSV of `export`).
import cliProgress from 'cli-progress'

export interface ProgressStream {
  isTTY?: boolean | undefined
  write(chunk: string): boolean
}

export interface Phase {
  /** `total` null while it is not known yet (a sweep reading Knack page by page). */
  update(done: number, total: number | null): void
  /** End the phase; off a terminal this prints `<label>: <done> of <total>` (or `<done>`). */
  end(): void
}

export interface ProgressReporter {
  readonly interactive: boolean
  phase(label: string): Phase
}

export function createProgress(stream: ProgressStream): ProgressReporter {
  const interactive = stream.isTTY === true
  return {
    interactive,
    phase(label) {
      let done = 0
      let total: number | null = null
      let bar: cliProgress.SingleBar | undefined
      const render = () => {
        if (!interactive) return
        const known = total !== null
        if (!bar) {
          bar = new cliProgress.SingleBar(
            {
              stream: stream as unknown as NodeJS.WritableStream,
              format: known ? `${label} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}` : `${label} {value}`,
              hideCursor: true,
              fps: 10,
              etaBuffer: 50
            },
            cliProgress.Presets.shades_classic
          )
          bar.start(known ? (total as number) : Math.max(done, 1), done)
          return
        }
        if (known) bar.setTotal(total as number)
        else bar.setTotal(Math.max(done, 1))
        bar.update(done)
      }
      return {
        update(d, t) {
          done = d
          total = t
          render()
        },
        end() {
          if (bar) {
            bar.update(done)
            bar.stop()
          } else if (!interactive) {
            stream.write(`${label}: ${done}${total === null ? '' : ` of ${total}`}\n`)
          }
        }
      }
    }
  }
}
