// DATABASE_URL → which store and how to reach it. Errors never echo the URL: it may hold a password.
import { ConfigInvalid } from '../errors.js'

export type StoreTarget =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; connectionString: string; schema: string | undefined; options: string | undefined }

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/** A schema name safe to put in `-c search_path=` and DDL without quoting. */
export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new ConfigInvalid(`DATABASE_URL: schema must be letters, digits and underscores, got "${schema}"`)
  }
  return schema
}

/**
 * `sqlite:<path>` (relative to the working directory; `sqlite:///abs` also works), `sqlite::memory:`,
 * `postgres://…` / `postgresql://…`. For PostgreSQL a `?schema=<name>` parameter selects the schema
 * (taken out of the URL and applied as the connection's search_path); `schemaOverride` wins over it.
 */
export function parseDatabaseUrl(databaseUrl: string, schemaOverride?: string): StoreTarget {
  if (databaseUrl.startsWith('sqlite:')) {
    let path = databaseUrl.slice('sqlite:'.length)
    if (path.startsWith('//')) path = path.slice(2)
    if (path === '') throw new ConfigInvalid('DATABASE_URL: sqlite: needs a file path or :memory:')
    return { kind: 'sqlite', path }
  }
  if (databaseUrl.startsWith('postgres://') || databaseUrl.startsWith('postgresql://')) {
    let url: URL
    try {
      url = new URL(databaseUrl)
    } catch {
      throw new ConfigInvalid('DATABASE_URL: not a valid postgres:// URL')
    }
    const fromUrl = url.searchParams.get('schema') ?? undefined
    url.searchParams.delete('schema')
    // Taken out so our search_path can be added to it rather than be overridden by it
    // (pg lets connection-string values win over explicit config).
    const options = url.searchParams.get('options') ?? undefined
    url.searchParams.delete('options')
    const schema = schemaOverride ?? fromUrl
    return {
      kind: 'postgres',
      connectionString: url.toString(),
      schema: schema === undefined ? undefined : checkSchemaName(schema),
      options
    }
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(databaseUrl)?.[1]
  throw new ConfigInvalid(
    `DATABASE_URL: unsupported store${scheme ? ` "${scheme}:"` : ''}; use sqlite:<path>, sqlite::memory: or postgres://…`
  )
}
