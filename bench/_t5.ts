import { compileService } from './build.js'
import { useServiceCli } from './proc.js'
import { runQueuedMemory, runSweepScale } from './memory-bench.js'
useServiceCli((await compileService()).cli)
console.log(await runSweepScale(1000, 150, 2000, 300_000))
console.log(await runSweepScale(10000, 150, 2000, 300_000))
console.log(await runQueuedMemory(10000, 150, 3000))
