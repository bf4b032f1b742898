// Preloaded into a service child (node --import ./bench/mem-probe.mjs) by the memory bench:
// samples process.memoryUsage() every 50 ms and, on exit, writes the sample with the highest RSS
// to MEM_PROBE_OUT, so the peak can be split into V8 heap, external buffers and the rest.
/* global process, setInterval */
import { writeFileSync } from 'node:fs'

const out = process.env.MEM_PROBE_OUT
if (out) {
  let peak = process.memoryUsage()
  const timer = setInterval(() => {
    const m = process.memoryUsage()
    if (m.rss > peak.rss) peak = m
  }, 50)
  timer.unref()
  process.on('exit', () => writeFileSync(out, JSON.stringify(peak)))
}
