import { startStack } from '../src/sandbox/stack.js'
import { compileService } from './build.js'
import { spawnService, rssOf, useServiceCli } from './proc.js'
import { sleep } from './stats.js'
let t = performance.now()
const b = await compileService()
console.log('compiled in', performance.now() - t, b.typeErrors.slice(0, 500))
useServiceCli(b.cli)
const stack = await startStack({ buildService: false })
const s = await spawnService(stack.env)
await sleep(2000)
console.log('idle compiled RSS MB', rssOf(s.pid) / 2 ** 20)
await s.stop()
await stack.close()
