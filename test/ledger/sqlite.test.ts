// The shared ledger suite on a SQLite file and on :memory:, plus what is SQLite's own.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import t from 'tap'
import { openLedger } from '../../src/ledger/open.js'
import { SQLITE_MIGRATIONS } from '../../src/ledger/sqlite-migrations.js'
import type { Ledger } from '../../src/ledger/types.js'
import { ledgerSuite } from './ledger-suite.js'

const dir = mkdtempSync(join(tmpdir(), 'knack311-ledger-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

t.test('SQLite file', async (t) => {
  ledgerSuite(t, async (teardown) => {
    // A directory that does not exist yet: openLedger creates it.
    const url = `sqlite:${join(dir, `store-${++n}`, 'ledger.sqlite')}`
    const opened: Ledger[] = []
    const open = async () => {
      const l = await openLedger(url)
      opened.push(l)
      return l
    }
    teardown(() => Promise.all(opened.map((l) => l.close())))
    return { ledger: await open(), sibling: open }
  }, { secondHandle: true })
})

t.test('SQLite :memory:', async (t) => {
  ledgerSuite(t, async (teardown) => {
    const ledger = await openLedger('sqlite::memory:')
    teardown(() => ledger.close())
    return { ledger, sibling: undefined }
  }, { secondHandle: false })
})

t.test('opening a file: parent directory, WAL, migrations recorded once', async (t) => {
  const path = join(dir, 'a', 'b', 'c.sqlite')
  const [one, two] = await Promise.all([openLedger(`sqlite:${path}`), openLedger(`sqlite://${path}`)])
  t.ok(existsSync(path), 'file created with its parent directories')
  await one.close()
  await two.close()
  await (await openLedger(`sqlite:${path}`)).close()
  const db = new Database(path, { readonly: true })
  t.teardown(() => db.close())
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  t.same(
    db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all(),
    SQLITE_MIGRATIONS.map(({ version, name }) => ({ version, name })),
    'each migration applied once'
  )
  t.ok(SQLITE_MIGRATIONS.length >= 4, 'the list holds the migrations this test knows of')
})

t.test('migration 4 rebuilds deliveries: rows, attempts and the id sequence survive', async (t) => {
  const path = join(dir, 'from-v3.sqlite')
  const old = new Database(path)
  old.pragma('foreign_keys = ON')
  old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT')
  for (const m of SQLITE_MIGRATIONS.filter((m) => m.version <= 3)) {
    old.exec(m.sql)
    old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 0)
  }
  const insert = old.prepare(`INSERT INTO deliveries (app, record_id, sr_number, atd_activity_id, content_hash, dedupe_key, source,
    record, status, attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, 'SR-1', ?, 'h', ?, 'sweep', ?, 'dead', 1, 0, 0, 0)`)
  for (const n of [1, 2, 3]) insert.run('a', `r${n}`, n, `k${n}`, JSON.stringify({ id: `r${n}` }))
  old.prepare(`INSERT INTO attempts (delivery_id, n, step, outcome, detail, started_at, finished_at) VALUES (2, 1, 'esb', 'rejected', 'why', 0, 0)`).run()
  old.prepare('DELETE FROM deliveries WHERE id = 3').run()
  old.close()

  const ledger = await openLedger(`sqlite:${path}`)
  t.teardown(() => ledger.close())
  t.same((await ledger.list({ limit: 10 })).map((d) => [d.id, d.recordId, d.possibleDuplicate]), [[2, 'r2', false], [1, 'r1', false]], 'rows kept, possible_duplicate false')
  t.same((await ledger.attempts(2)).map((a) => a.detail), ['why'], 'attempts not cascaded away by the rebuild')
  const { delivery } = await ledger.enqueue(
    { app: 'a', recordId: 'r9', srNumber: 'SR-9', atdActivityId: 9, contentHash: 'h', source: 'replay', record: { id: 'r9' } },
    'once',
    new Date()
  )
  t.equal(delivery.id, 4, 'the id of the deleted row 3 is not handed out again')
  t.equal(delivery.source, 'replay', "the 'replay' source is allowed")
})

t.test('close is idempotent', async (t) => {
  const ledger = await openLedger('sqlite::memory:')
  await ledger.close()
  await ledger.close()
  await t.rejects(ledger.ping(), 'a closed ledger does not answer')
})

t.test('two processes on one file: one row per content, one claim per SR at a time', async (t) => {
  const url = `sqlite:${join(dir, 'shared', 'ledger.sqlite')}`
  const seed = await openLedger(url)
  const srs = Array.from({ length: 10 }, (_, i) => `SR-${i + 1}`)
  for (const sr of srs) {
    for (const atd of [5, 3, 1, 4, 2]) {
      const recordId = `${sr}-${atd}`
      await seed.enqueue(
        { app: 'a', recordId, srNumber: sr, atdActivityId: atd, contentHash: 'h', source: 'sweep', record: { id: recordId } },
        'once',
        new Date()
      )
    }
  }
  await seed.close()

  const script = fileURLToPath(new URL('./sqlite-process.ts', import.meta.url))
  const run = (owner: string) =>
    promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', script, JSON.stringify({ url, owner, enqueues: 25, rounds: 400, readyDir: dir, peers: ['A', 'B'] })],
      { timeout: 15_000 }
    ).then((out) => JSON.parse(out.stdout) as ProcessReport)
  const reports = await Promise.all([run('A'), run('B')])

  t.equal(reports.flatMap((r) => r.created).length, 1, '50 identical enqueues from two processes made one row')
  const claims = reports.flatMap((r) => r.claims)
  t.comment(`claims per process: ${reports.map((r) => r.claims.length).join(' / ')}`)
  t.equal(claims.length, 51, 'every row claimed')
  t.equal(new Set(claims.map((c) => c.id)).size, 51, 'no row claimed twice')
  const overlaps: string[] = []
  for (const sr of [...srs, 'SR-0']) {
    const held = claims.filter((c) => c.sr === sr).sort((x, y) => x.from - y.from)
    held.forEach((c, i) => {
      const next = held[i + 1]
      if (next && next.from < c.to) overlaps.push(`${sr}: ${c.id} and ${next.id}`)
    })
    if (sr !== 'SR-0') t.same(held.map((c) => c.atd), [1, 2, 3, 4, 5], `${sr} in atd order`)
  }
  t.same(overlaps, [], 'no SR held by both processes at once')
})

interface ProcessReport {
  created: number[]
  claims: { id: number; sr: string; atd: number; from: number; to: number }[]
}
