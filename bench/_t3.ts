import { runIntakeBench } from './intake-bench.js'
console.log(JSON.stringify(await runIntakeBench({ durationS: 5, warmupRequests: 1000, maxRequests: 50000, connections: 32, cpuProfDir: process.env.PROF }), null, 1))
