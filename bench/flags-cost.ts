// What production's V8 flags cost in CPU: the compiled service takes the same webhooks with and
// without them, alternately, and the CPU time it used (utime + stime from /proc/<pid>/stat) is
// divided by the webhooks — a figure a shared machine disturbs far less than requests per second.
// Also its peak RSS (VmHWM). Run: node --import tsx bench/flags-cost.ts [webhooks] [rounds]
import autocannon from 'autocannon'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startStack } from '../src/sandbox/stack.js'
import { compileService } from './build.js'
import { memOf, productionNodeFlags, spawnService, useServiceCli } from './proc.js'
import { webhookBodies } from './records.js'

const n = Number(process.argv[2] ?? 20_000)
const rounds = Number(process.argv[3] ?? 2)
const TICK_MS = 10 // USER_HZ 100 on Linux

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}

const production = productionNodeFlags()
const { cli } = await compileService()
useServiceCli(cli)
const variants: Array<[string, string]> = [
  ['production flags', production.join(' ')],
  ['no flags', '']
]
for (let round = 0; round < rounds; round++) {
  for (const [name, flags] of variants) {
    process.env.BENCH_NODE_FLAGS = flags
    const stack = await startStack({ buildService: false })
    try {
      const service = await spawnService({ ...stack.env, DATABASE_URL: `sqlite:${join(stack.dir, 'flags.sqlite')}` })
      try {
        const bodyOf = webhookBodies(stack.appConfig('data-tracker'), `f${round}${name[0]}`)
        let i = 0
        const before = cpuMs(service.pid)
        const run = await autocannon({
          url: service.url,
          connections: 32,
          amount: n,
          timeout: 30,
          requests: [{ method: 'POST', path: '/webhooks/knack/data-tracker', headers: { 'content-type': 'application/json', 'x-webhook-token': stack.env.WEBHOOK_SECRET ?? '' }, setupRequest: (req) => ({ ...req, body: bodyOf(i++) }) }]
        })
        const used = cpuMs(service.pid) - before
        const hwm = memOf(service.pid).hwm / 2 ** 20
        console.log(`${name.padEnd(16)} round ${round + 1}: ${((used / n) * 1000).toFixed(0)} µs CPU per webhook, ${(run.requests.total / run.duration).toFixed(0)}/s, p99 ${run.latency.p99} ms, VmHWM ${hwm.toFixed(0)} MB, 202 × ${run.statusCodeStats['202']?.count ?? 0}`)
      } finally {
        await service.stop()
      }
    } finally {
      await stack.close()
    }
  }
}
