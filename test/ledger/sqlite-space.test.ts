// SQLite gives pruned space back bit by bit only with auto_vacuum = INCREMENTAL, which an
// existing file gets only through one full VACUUM. New files have it from the start; an existing
// small file is converted at open; a big one is left alone with a warning naming
// `knack311 prune --vacuum`, which converts it.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import Database from 'better-sqlite3'
import { pino } from 'pino'
import t from 'tap'
import { openLedger } from '../../src/ledger/open.js'
import { AUTO_CONVERT_MAX_BYTES } from '../../src/ledger/sqlite-lifecycle.js'
import { SQLITE_MIGRATIONS } from '../../src/ledger/sqlite-migrations.js'

const dir = mkdtempSync(join(tmpdir(), 'knack311-space-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

function logCapture() {
  const lines: Array<{ level: number; msg: string }> = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: number; msg: string })
      done()
    }
  })
  return { logger: pino({ level: 'info' }, stream), lines }
}

/** A file as an earlier release left it: migrations 1-4, no incremental auto-vacuum, `padBytes` of data. */
function oldFile(path: string, padBytes: number): void {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT')
  for (const m of SQLITE_MIGRATIONS.filter((m) => m.version <= 4)) {
    db.exec(m.sql)
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 0)
  }
  db.exec('CREATE TABLE pad (b BLOB)')
  if (padBytes > 0) db.prepare('INSERT INTO pad VALUES (zeroblob(?))').run(padBytes)
  t.equal(db.pragma('auto_vacuum', { simple: true }), 0, 'the old file has no auto-vacuum')
  db.close()
}

const autoVacuum = (path: string) => {
  const db = new Database(path, { readonly: true })
  try {
    return db.pragma('auto_vacuum', { simple: true })
  } finally {
    db.close()
  }
}

t.test('a new file has incremental auto-vacuum from the start', async (t) => {
  const path = join(dir, 'new.sqlite')
  await (await openLedger(`sqlite:${path}`)).close()
  t.equal(autoVacuum(path), 2)
})

t.test('an existing small file is converted at open', async (t) => {
  const path = join(dir, 'small.sqlite')
  oldFile(path, 1024 * 1024)
  const { logger, lines } = logCapture()
  const ledger = await openLedger(`sqlite:${path}`, { logger })
  await ledger.close()
  t.equal(autoVacuum(path), 2, 'converted')
  t.ok(lines.some((l) => /switched to incremental auto-vacuum/.test(l.msg)), 'and it says so')
})

t.test('a big existing file is left alone with a warning; enableIncrementalVacuum converts it', async (t) => {
  const path = join(dir, 'big.sqlite')
  oldFile(path, AUTO_CONVERT_MAX_BYTES + 1024 * 1024)
  const { logger, lines } = logCapture()
  const ledger = await openLedger(`sqlite:${path}`, { logger })
  t.teardown(() => ledger.close())
  t.ok(lines.some((l) => l.level === 40 && /knack311 prune --vacuum/.test(l.msg)), 'the warning names the command')
  t.equal(await ledger.reclaimSpace(100), 0, 'nothing can be given back yet')
  t.equal(await ledger.enableIncrementalVacuum(), 'converted')
  t.equal(await ledger.enableIncrementalVacuum(), 'already')
  const mem = await openLedger('sqlite::memory:')
  t.equal(await mem.enableIncrementalVacuum(), 'not_applicable')
  await mem.close()
})

t.test('pruned pages go back to the file system', async (t) => {
  const path = join(dir, 'shrink.sqlite')
  const ledger = await openLedger(`sqlite:${path}`)
  const old = new Date(Date.now() - 200 * 86_400_000)
  const made = await Promise.all(
    Array.from({ length: 3000 }, (_, i) =>
      ledger.enqueue({ app: 'a', recordId: `r${i}`, srNumber: `SR-${i}`, atdActivityId: i, contentHash: 'h', source: 'sweep', record: { id: `r${i}`, pad: 'x'.repeat(1000) } }, 'once', old)
    )
  )
  await ledger.claim('w', 10_000, 60_000, old)
  await Promise.all(made.map((m) => ledger.finish(m.delivery.id, { owner: 'w', status: 'sent', attempts: 1, now: old })))
  await ledger.close()
  const full = statSync(path).size

  const again = await openLedger(`sqlite:${path}`)
  let deleted = 0
  for (let i = 0; i < 100; i++) {
    const b = await again.pruneBatch('sent', new Date(), 500)
    deleted += b.deliveries
    if (b.deliveries < 500) break
  }
  let freed = 0
  for (let i = 0; i < 100; i++) {
    const pages = await again.reclaimSpace(256)
    freed += pages
    if (pages === 0) break
  }
  await again.close()
  t.equal(deleted, 3000)
  t.ok(freed > 0, `${freed} pages given back`)
  t.ok(statSync(path).size < full / 4, `the file shrank from ${full} to ${statSync(path).size} bytes`)
})
