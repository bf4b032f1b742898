// What the figures were measured on: cores, memory, CPU, Node, load at the time.
import { readFileSync } from 'node:fs'
import { cpus, loadavg, totalmem, release } from 'node:os'

export interface Machine {
  date: string
  cpuModel: string
  cores: number
  memoryGiB: number
  node: string
  kernel: string
  loadAverage: { start: number[]; end?: number[] }
}

export function machine(): Machine {
  let cpuModel = cpus()[0]?.model ?? 'unknown'
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'))
    if (line) cpuModel = line.split(':').slice(1).join(':').trim()
  } catch {
    // not Linux: os.cpus() is good enough
  }
  return {
    date: new Date().toISOString(),
    cpuModel,
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    loadAverage: { start: loadavg().map((x) => Math.round(x * 100) / 100) }
  }
}

export function loadNow(): number[] {
  return loadavg().map((x) => Math.round(x * 100) / 100)
}
