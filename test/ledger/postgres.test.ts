// The shared ledger suite on PostgreSQL. Needs KNACK311_TEST_PG (a database this test may create
// schemas in); without it the file reports itself skipped. Each test gets its own schema, dropped
// at the end, so parallel runs do not collide.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import t from 'tap'
import { openLedger } from '../../src/ledger/open.js'
import { POSTGRES_MIGRATIONS } from '../../src/ledger/postgres-migrations.js'
import type { Ledger } from '../../src/ledger/types.js'
import { ledgerSuite } from './ledger-suite.js'

const url = process.env.KNACK311_TEST_PG

async function dropSchema(base: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: base })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  } finally {
    await client.end()
  }
}

const newSchema = () => `ledger_test_${randomBytes(6).toString('hex')}`

if (!url) {
  t.plan(0, 'PostgreSQL ledger skipped: KNACK311_TEST_PG is not set (e.g. postgres://postgres@127.0.0.1:5432/test)')
} else {
  t.test('PostgreSQL', async (t) => {
    ledgerSuite(t, async (teardown) => {
      const schema = newSchema()
      const opened: Ledger[] = []
      const open = async () => {
        const l = await openLedger(url, { schema })
        opened.push(l)
        return l
      }
      teardown(async () => {
        await Promise.all(opened.map((l) => l.close()))
        await dropSchema(url, schema)
      })
      return { ledger: await open(), sibling: open }
    }, { secondHandle: true })
  })

  t.test('replicas starting together migrate once (advisory lock), schema from ?schema=', async (t) => {
    const schema = newSchema()
    const withSchema = `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`
    const ledgers = await Promise.all(Array.from({ length: 4 }, () => openLedger(withSchema)))
    t.teardown(async () => {
      await Promise.all(ledgers.map((l) => l.close()))
      await dropSchema(url, schema)
    })
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    t.teardown(() => client.end())
    const { rows } = await client.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`)
    t.same(rows, POSTGRES_MIGRATIONS.map(({ version }) => ({ version })))
    const first = ledgers[0]
    if (!first) throw new Error('no ledger')
    const { delivery } = await first.enqueue(
      {
        app: 'a',
        recordId: 'r',
        srNumber: 's',
        atdActivityId: 1,
        contentHash: 'h',
        source: 'webhook',
        record: { id: 'r' }
      },
      'once',
      new Date()
    )
    const { rows: stored } = await client.query(`SELECT record_id FROM ${schema}.deliveries WHERE id = $1`, [delivery.id])
    t.same(stored, [{ record_id: 'r' }], 'tables live in the named schema')
  })

  t.test('claim skips an SR whose advisory lock another claimer holds, and takes it once released', async (t) => {
    // The cross-process rule the claim relies on: every claimer takes pg_try_advisory_xact_lock(2,
    // hashtext(app || chr(31) || sr)) before leasing a row of that SR. A raw session holding it
    // stands in for a second process caught mid-claim.
    const schema = newSchema()
    const ledger = await openLedger(url, { schema })
    const other = new pg.Client({ connectionString: url })
    await other.connect()
    t.teardown(async () => {
      await other.end()
      await ledger.close()
      await dropSchema(url, schema)
    })
    const base = { app: 'a', source: 'webhook' as const, contentHash: 'h', atdActivityId: 1 }
    const now = new Date()
    await ledger.enqueue({ ...base, recordId: 'x', srNumber: 'SR-X', record: { id: 'x' } }, 'once', now)
    await ledger.enqueue({ ...base, recordId: 'y', srNumber: 'SR-Y', record: { id: 'y' } }, 'once', now)
    await other.query('BEGIN')
    await other.query(`SELECT pg_advisory_xact_lock(2, hashtext($1))`, ['a\u001fSR-X'])
    t.same((await ledger.claim('w', 10, 60_000, now)).map((d) => d.srNumber), ['SR-Y'], 'the locked SR is skipped')
    await other.query('COMMIT')
    t.same((await ledger.claim('w', 10, 60_000, now)).map((d) => d.srNumber), ['SR-X'], 'and claimed once free')
  })

  t.test('an unreachable server rejects openLedger', async (t) => {
    await t.rejects(openLedger('postgres://postgres@127.0.0.1:1/none'))
  })
}
