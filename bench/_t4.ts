import { runLatencyBench } from './latency-bench.js'
console.log(await runLatencyBench({ webhooks: 100, knackRate: 1000 }))
