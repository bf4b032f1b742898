// What one durable commit costs on the disk the ledger uses: small SQLite transactions in WAL
// mode with synchronous=FULL (the ledger's setting: an fsync per commit) and NORMAL (no fsync
// per commit; can lose the last commits on power loss), in the temp directory the other runs use.
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface FsyncResult {
  dir: string
  commits: number
  fullMsPerCommit: number
  normalMsPerCommit: number
}

export function runFsyncBench(commits: number): FsyncResult {
  const dir = mkdtempSync(join(tmpdir(), 'knack311-fsync-'))
  try {
    const per = (sync: 'FULL' | 'NORMAL') => {
      const db = new Database(join(dir, `${sync}.sqlite`))
      try {
        db.pragma('journal_mode = WAL')
        db.pragma(`synchronous = ${sync}`)
        db.exec('CREATE TABLE t (body TEXT)')
        const insert = db.prepare('INSERT INTO t (body) VALUES (?)')
        const body = 'x'.repeat(2000) // about one stored Knack record
        const started = performance.now()
        for (let i = 0; i < commits; i++) insert.run(body)
        return (performance.now() - started) / commits
      } finally {
        db.close()
      }
    }
    return { dir: tmpdir(), commits, fullMsPerCommit: per('FULL'), normalMsPerCommit: per('NORMAL') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
