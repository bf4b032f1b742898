#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=256 --no-allocation-site-pretenuring
// The V8 flags above bound the footprint (issue 10: peak RSS ≤ 150 MB): by default V8 lets 16 MiB
// semi-spaces and a heap sized for 4 GiB fill with garbage between full GCs (210–226 MB peaks);
// 2 MiB semi-spaces and a 256 MiB old space make it collect sooner, at little throughput cost.
// With semi-spaces that small, V8 would pretenure the allocation sites of requests in flight
// (most are alive at a scavenge) and fill the old space with their garbage: a full GC every ~1.2 s
// at 3,000 webhooks/s, the tail of intake's latency. --no-allocation-site-pretenuring stops that.
// They must be on node's command line (v8.setFlagsFromString is too late: the heap is sized at
// start-up), so `npm start` and the Dockerfile's CMD, which run `node bin/knack311.js`, repeat
// them; test/deploy/node-flags.test.ts keeps the three the same.
// Runs the compiled CLI when it exists (npm ci builds it), else the TypeScript source through tsx.
import { existsSync } from 'node:fs'

const compiled = new URL('../dist/cli.js', import.meta.url)
if (existsSync(compiled)) {
  await import(compiled.href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import(new URL('../src/cli.ts', import.meta.url).href)
}
