import { runIntakeBench } from './intake-bench.js'
console.log(JSON.stringify(await runIntakeBench({ durationS: 5, warmupS: 1, connections: 32, cpuProfDir: process.env.PROF }), null, 1))
