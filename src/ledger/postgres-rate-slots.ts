// The Knack rate slots on PostgreSQL (migration 6): every replica's Knack client takes its
// grants here, so KNACK_RATE_LIMIT holds for all of them together. One statement per grant.
// clock_timestamp() — the database's clock at the moment the row is judged, not the
// transaction's start nor a replica's clock — decides what is free.
import type pg from 'pg'
import type { RateSlots, SlotAnswer } from '../clients/knack/rate-slots.js'

// SKIP LOCKED: a slot another replica is granting this instant is not waited for; FOR UPDATE
// re-checks busy_until on the row's newest version, so a slot is never granted twice. The last
// SELECT reads the snapshot before the UPDATE, which only matters when nothing was granted.
const TAKE = `WITH pick AS (
    SELECT slot FROM knack_rate_slots
    WHERE app_id = $1 AND slot < $2 AND busy_until <= clock_timestamp()
    ORDER BY busy_until, slot LIMIT 1
    FOR UPDATE SKIP LOCKED
  ), granted AS (
    UPDATE knack_rate_slots s SET busy_until = clock_timestamp() + $3 * interval '1 millisecond'
    FROM pick WHERE s.app_id = $1 AND s.slot = pick.slot
    RETURNING s.slot
  )
  SELECT (SELECT min(slot) FROM granted) AS slot,
    (SELECT count(*) FROM knack_rate_slots WHERE app_id = $1 AND slot < $2)::int AS slots,
    (SELECT ceil(extract(epoch FROM GREATEST(min(busy_until), clock_timestamp()) - clock_timestamp()) * 1000)
       FROM knack_rate_slots WHERE app_id = $1 AND slot < $2)::float8 AS retry_ms`

const ENSURE = `INSERT INTO knack_rate_slots (app_id, slot)
  SELECT $1, g FROM generate_series(0, $2 - 1) AS g
  ON CONFLICT DO NOTHING`

const EXTEND = `UPDATE knack_rate_slots SET busy_until = busy_until + $3 * interval '1 millisecond'
  WHERE app_id = $1 AND slot = $2`

const HOLD_FROM_NOW = `UPDATE knack_rate_slots
  SET busy_until = GREATEST(busy_until, clock_timestamp() + $3 * interval '1 millisecond')
  WHERE app_id = $1 AND slot = $2`

const PAUSE = `UPDATE knack_rate_slots
  SET busy_until = GREATEST(busy_until, clock_timestamp() + $2 * interval '1 millisecond')
  WHERE app_id = $1`

export function createPostgresRateSlots(pool: pg.Pool): RateSlots {
  async function ensure(appId: string, rate: number): Promise<void> {
    await pool.query(ENSURE, [appId, rate])
  }

  async function take(appId: string, rate: number, holdMs: number): Promise<SlotAnswer> {
    for (let round = 0; round < 2; round++) {
      const { rows } = await pool.query<{ slot: number | null; slots: number; retry_ms: number | null }>(TAKE, [appId, rate, holdMs])
      const row = rows[0]
      if (!row) throw new Error('rate slots: no answer')
      if (row.slot !== null) return { granted: true, slot: row.slot }
      // Fewer rows than the rate: a first grant for this app, or KNACK_RATE_LIMIT was raised.
      // Created once here, then taken in the second round.
      if (row.slots < rate) {
        await ensure(appId, rate)
        continue
      }
      return { granted: false, retryInMs: Math.max(0, row.retry_ms ?? 0) }
    }
    return { granted: false, retryInMs: 0 }
  }

  return {
    take,
    async holdFromNow(appId, slot, ms) {
      await pool.query(HOLD_FROM_NOW, [appId, slot, Math.max(0, Math.ceil(ms))])
    },
    async extend(appId, slot, ms) {
      await pool.query(EXTEND, [appId, slot, Math.max(0, Math.ceil(ms))])
    },
    async pause(appId, ms) {
      await pool.query(PAUSE, [appId, Math.max(0, Math.ceil(ms))])
    }
  }
}
