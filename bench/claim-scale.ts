// How the ledger's claim and next-due queries scale with the backlog: N pending deliveries over
// 150 SRs whose heads failed and wait an hour (the ESB is down), then the mean time of 20 claims
// and 20 next-due reads. Run: node --import tsx bench/claim-scale.ts [N=50000] [sqlite|postgres://…]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { openLedger } from '../src/ledger/open.js'

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
} finally {
  await ledger.close()
  rmSync(dir, { recursive: true, force: true })
  if (pgUrl) {
    const client = new pg.Client({ connectionString: pgUrl })
    await client.connect()
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await client.end()
  }
}
