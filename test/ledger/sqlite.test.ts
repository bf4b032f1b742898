// The shared ledger suite on a SQLite file and on :memory:, plus what is SQLite's own.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { openLedger } from '../../src/ledger/open.js'
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
    [
      { version: 1, name: 'deliveries' },
      { version: 2, name: 'attempts' }
    ],
    'each migration applied once'
  )
})

t.test('close is idempotent', async (t) => {
  const ledger = await openLedger('sqlite::memory:')
  await ledger.close()
  await ledger.close()
  await t.rejects(ledger.ping(), 'a closed ledger does not answer')
})
