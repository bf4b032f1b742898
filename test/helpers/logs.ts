// A pino logger whose lines a test can read (JSON, one object per line).
import { Writable } from 'node:stream'
import { pino, type Logger } from 'pino'

export function captureLogs(level = 'info'): { logger: Logger; lines: string[] } {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      done()
    }
  })
  return { logger: pino({ level }, stream), lines }
}
