// The one way in: DATABASE_URL → a migrated, ready Ledger.
import pino from 'pino'
import type { Logger } from 'pino'
import { parseDatabaseUrl } from './database-url.js'
import { openPostgresLedger } from './postgres-ledger.js'
import { openSqliteLedger } from './sqlite-ledger.js'
import type { Ledger } from './types.js'

export interface OpenLedgerOptions {
  logger?: Logger
  /** PostgreSQL only: the schema holding the tables (created if missing). Wins over the URL's
   *  `?schema=` parameter; without either, the server's default search_path applies. */
  schema?: string
}

/**
 * `sqlite:<path>` (parent directory created), `sqlite::memory:`, or `postgres://…`/`postgresql://…`
 * (`?schema=name` supported). Migrations run before this resolves. Throws CONFIG_INVALID for a URL
 * it cannot use; the message never repeats the URL, which may hold a password.
 */
export async function openLedger(databaseUrl: string, opts: OpenLedgerOptions = {}): Promise<Ledger> {
  const logger = (opts.logger ?? pino({ enabled: false })).child({ component: 'ledger' })
  const target = parseDatabaseUrl(databaseUrl, opts.schema)
  if (target.kind === 'sqlite') return openSqliteLedger({ path: target.path, logger })
  return openPostgresLedger({ ...target, logger })
}
