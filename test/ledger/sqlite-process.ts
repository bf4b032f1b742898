// A second process on the same SQLite file, spawned by sqlite.test.ts (`node --import tsx this.ts
// '<job json>'`). Prints one JSON line with what it created and claimed.
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openLedger } from '../../src/ledger/open.js'

interface Job {
  url: string
  owner: string
  enqueues: number
  rounds: number
  /** Start line: each process writes ready-<owner> here and waits (bounded) for all peers'. */
  readyDir: string
  peers: string[]
}

const arg = process.argv[2]
if (arg === undefined) {
  // Run directly (e.g. `tap test/ledger/`): not a test on its own.
  console.log('1..0 # SKIP helper process spawned by sqlite.test.ts')
  process.exit(0)
}
const job = JSON.parse(arg) as Job
const ledger = await openLedger(job.url)
writeFileSync(join(job.readyDir, `ready-${job.owner}`), '')
for (let i = 0; i < 1000 && !job.peers.every((p) => existsSync(join(job.readyDir, `ready-${p}`))); i++) {
  await new Promise((resolve) => setTimeout(resolve, 10))
}
const created: number[] = []
for (let i = 0; i < job.enqueues; i++) {
  const r = await ledger.enqueue(
    { app: 'a', recordId: 'same', srNumber: 'SR-0', atdActivityId: 0, contentHash: 'h', source: 'webhook', record: { id: 'same' } },
    'once',
    new Date()
  )
  if (r.created) created.push(r.delivery.id)
}
// Claim and finish in a bounded loop; report every claim with the SR and the time window it was held.
const claims: { id: number; sr: string; atd: number; from: number; to: number }[] = []
for (let i = 0; i < job.rounds; i++) {
  const rows = await ledger.claim(job.owner, 3, 60_000, new Date())
  if (rows.length === 0) {
    if ((await ledger.nextDueAt()) === null) break
    await new Promise((resolve) => setTimeout(resolve, 1))
    continue
  }
  // Wall-clock ms, one clock for both processes: the lease surely covers [from, to].
  const from = Date.now()
  await new Promise((resolve) => setTimeout(resolve, 2))
  for (const r of rows) {
    claims.push({ id: r.id, sr: r.srNumber, atd: r.atdActivityId, from, to: Date.now() })
    await ledger.finish(r.id, { owner: job.owner, status: 'sent', attempts: 1, now: new Date() })
  }
}
await ledger.close()
console.log(JSON.stringify({ created, claims }))
