import { runServiceSweep, startSequentialScript } from './sweep-bench.js'
const s = { n: 60, srs: 15, knackLatencyMs: 50, knackRate: 10, esbLatencyMs: 300, deadlineMs: 120_000 }
const a = startSequentialScript(s)
const b = await runServiceSweep(s)
console.log('service', b)
console.log('script', await a)
