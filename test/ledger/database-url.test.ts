import t from 'tap'
import { parseDatabaseUrl } from '../../src/ledger/database-url.js'

t.test('sqlite forms', async (t) => {
  t.same(parseDatabaseUrl('sqlite:data/knack311.sqlite'), { kind: 'sqlite', path: 'data/knack311.sqlite' })
  t.same(parseDatabaseUrl('sqlite::memory:'), { kind: 'sqlite', path: ':memory:' })
  t.same(parseDatabaseUrl('sqlite:///var/lib/k.sqlite'), { kind: 'sqlite', path: '/var/lib/k.sqlite' })
  t.throws(() => parseDatabaseUrl('sqlite:'), { code: 'CONFIG_INVALID' })
})

t.test('postgres: schema from the URL or the option, other parameters kept', async (t) => {
  const target = parseDatabaseUrl('postgresql://u:pw@db:5432/k?schema=knack&sslmode=require&options=-c%20x%3D1')
  t.match(target, { kind: 'postgres', schema: 'knack', options: '-c x=1' })
  if (target.kind !== 'postgres') throw new Error('unreachable')
  t.equal(target.connectionString, 'postgresql://u:pw@db:5432/k?sslmode=require')
  t.match(parseDatabaseUrl('postgres://h/d?schema=a', 'b'), { schema: 'b' }, 'the option wins')
  t.match(parseDatabaseUrl('postgres://h/d'), { schema: undefined, options: undefined })
})

t.test('bad URLs are refused without repeating them', async (t) => {
  for (const url of ['mysql://root:hunter2@h/d', 'postgres://u:hunter2@h/d?schema=x;drop', 'hunter2']) {
    const err = t.throws(() => parseDatabaseUrl(url), { code: 'CONFIG_INVALID' }) as Error
    t.notMatch(err.message, /hunter2/, `no password in: ${err.message}`)
  }
})
