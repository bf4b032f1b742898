// A PostgreSQL schema of its own for one multi-replica test: the replicas' DATABASE_URL points
// into it, the test reads it through `db`, and it is dropped at teardown (registered first, so
// it runs last: children and simulators are gone by then).
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Test } from 'tap'

export interface TestSchema {
  schema: string
  /** `url` with `?schema=` (or `&schema=`) for the service under test. */
  databaseUrl: string
  db: pg.Client
}

export async function testSchema(t: Test, url: string, prefix = 'k311'): Promise<TestSchema> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  t.teardown(async () => {
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined)
    await db.end()
  })
  return { schema, db, databaseUrl: `${url}${url.includes('?') ? '&' : '?'}schema=${schema}` }
}
