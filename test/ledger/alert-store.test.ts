// The alerts outbox suite on a SQLite file, on :memory:, and on PostgreSQL when KNACK311_TEST_PG
// is set (each test in its own schema, dropped at the end).
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import t from 'tap'
import { openLedger } from '../../src/ledger/open.js'
import type { Ledger } from '../../src/ledger/types.js'
import { alertStoreSuite } from './alert-store-suite.js'

const dir = mkdtempSync(join(tmpdir(), 'knack311-alert-store-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

t.test('SQLite file', async (t) => {
  alertStoreSuite(t, async (teardown) => {
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
  alertStoreSuite(t, async (teardown) => {
    const ledger = await openLedger('sqlite::memory:')
    teardown(() => ledger.close())
    return { ledger, sibling: undefined }
  }, { secondHandle: false })
})

const url = process.env.KNACK311_TEST_PG
t.test('PostgreSQL', async (t) => {
  if (!url) {
    t.plan(0, 'PostgreSQL alert store skipped: KNACK311_TEST_PG is not set (e.g. postgres://postgres@127.0.0.1:5432/test)')
    return
  }
  alertStoreSuite(t, async (teardown) => {
    const schema = `alerts_test_${randomBytes(6).toString('hex')}`
    const opened: Ledger[] = []
    const open = async () => {
      const l = await openLedger(url, { schema })
      opened.push(l)
      return l
    }
    teardown(async () => {
      await Promise.all(opened.map((l) => l.close()))
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await client.end()
    })
    return { ledger: await open(), sibling: open }
  }, { secondHandle: true })
})
