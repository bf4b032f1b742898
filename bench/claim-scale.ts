// How the ledger's claim and next-due queries scale with the backlog: N pending deliveries over
// 150 SRs whose heads failed and wait an hour (the ESB is down), then the mean time of 20 claims
// and 20 next-due reads; then N more, each its own SR and due now (a burst of webhooks), and the
// mean time of 20 claims of one, as a worker claims when a slot frees; and the same burst alone,
// in a store of its own.
// Run: node --import tsx bench/claim-scale.ts [N=50000] [sqlite|postgres://…]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { openLedger } from '../src/ledger/open.js'
import type { Ledger } from '../src/ledger/types.js'

const N = Math.min(Number(process.argv[2] ?? 50_000), 500_000)
const SRS = 150
const dir = mkdtempSync(join(tmpdir(), 'knack311-claim-'))
const pgUrl = process.argv[3]?.startsWith('postgres') ? process.argv[3] : undefined
const schema = `claim_scale_${Date.now()}`
const url = pgUrl ? `${pgUrl}?schema=${schema}` : `sqlite:${join(dir, 'l.sqlite')}`
const ledger = await openLedger(url)
try {
  const now = new Date()
  for (let b = 0; b < N; b += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, N - b) }, (_, i) => {
        const k = b + i
        return ledger.enqueue({ app: 'data-tracker', recordId: `r${k}`, srNumber: `SR${k % SRS}`, atdActivityId: k, contentHash: `h${k}`, source: 'sweep', record: { id: `r${k}` } }, 'once', now)
      })
    )
  }
  const heads = await ledger.claim('bench', 1000, 60_000, now)
  const retryAt = new Date(now.getTime() + 3_600_000)
  for (const d of heads) await ledger.finish(d.id, { owner: 'bench', status: 'failed', attempts: 1, nextAttemptAt: retryAt, lastError: 'ESB down', now })
  const time = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now()
    for (let i = 0; i < 20; i++) await fn()
    return (performance.now() - t0) / 20
  }
  const claimMs = await time(() => ledger.claim('bench', 16, 60_000, new Date()))
  const nextDueMs = await time(() => ledger.nextDueAt())
  console.log(`${url.split(':')[0]}: ${N} pending over ${SRS} SRs (${heads.length} heads waiting): claim ${claimMs.toFixed(2)} ms, next-due ${nextDueMs.toFixed(2)} ms`)
  // A burst: N more, each its own SR and due now. Behind the waiting heads' backlog (due as
  // early), the claim's quick window holds none of them and the skip-scan visits every SR.
  await burst(ledger, N, now)
  const oneMs = await time(() => ledger.claim('bench', 1, 60_000, new Date()))
  console.log(`${url.split(':')[0]}: and ${N} more, each its own SR, due now: claim of one ${oneMs.toFixed(2)} ms`)
} finally {
  await ledger.close()
  rmSync(dir, { recursive: true, force: true })
  if (pgUrl) await dropSchema(pgUrl, schema)
}

// The burst alone, in a store of its own: the earliest-due rows are heads, and the quick window answers.
{
  const aloneSchema = `${schema}_alone`
  const aloneDir = mkdtempSync(join(tmpdir(), 'knack311-claim-'))
  const alone = await openLedger(pgUrl ? `${pgUrl}?schema=${aloneSchema}` : `sqlite:${join(aloneDir, 'l.sqlite')}`)
  try {
    await burst(alone, N, new Date())
    const t0 = performance.now()
    for (let i = 0; i < 20; i++) await alone.claim('bench', 1, 60_000, new Date())
    console.log(`${url.split(':')[0]}: ${N} pending, each its own SR, due now, alone: claim of one ${((performance.now() - t0) / 20).toFixed(2)} ms`)
  } finally {
    await alone.close()
    rmSync(aloneDir, { recursive: true, force: true })
    if (pgUrl) await dropSchema(pgUrl, aloneSchema)
  }
}

async function burst(ledger: Ledger, n: number, now: Date): Promise<void> {
  for (let b = 0; b < n; b += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, n - b) }, (_, i) => {
        const k = 1_000_000 + b + i
        return ledger.enqueue({ app: 'data-tracker', recordId: `r${k}`, srNumber: `ONE${k}`, atdActivityId: k, contentHash: `h${k}`, source: 'webhook', record: { id: `r${k}` } }, 'once', now)
      })
    )
  }
}

async function dropSchema(url: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)
  await client.end()
}
