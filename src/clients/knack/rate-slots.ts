// The store a shared rate limiter takes its grants from (shared-limiter.ts). The limiter owns
// the interface; the PostgreSQL ledger implements it (src/ledger/postgres-rate-slots.ts), so
// every replica on one database draws from the same `rate` slots per Knack app.
//
// Times are durations, never epoch values: the store judges "free" and "busy until" by its own
// clock, so clocks that differ between replicas do not matter.

export type SlotAnswer =
  /** Slot `slot` is this caller's until `holdMs` after the store's now. */
  | { granted: true; slot: number }
  /** Every slot is busy: the earliest frees in `retryInMs` (0 when one is free but was locked by
   *  another taker at that instant). */
  | { granted: false; retryInMs: number }

export interface RateSlots {
  /** Take one of the app's slots 0..rate-1 whose hold has ended and hold it for `holdMs`. One
   *  round trip; slots numbered rate and above (from a higher KNACK_RATE_LIMIT) are ignored. */
  take(appId: string, rate: number, holdMs: number): Promise<SlotAnswer>
  /** Hold a granted slot `ms` longer than it was granted for (its answer came back late). */
  extend(appId: string, slot: number, ms: number): Promise<void>
  /** Hold a slot until at least `ms` after the store's now (its request was answered). */
  holdFromNow(appId: string, slot: number, ms: number): Promise<void>
  /** Hold every slot of the app for at least `ms` from the store's now (after a 429). */
  pause(appId: string, ms: number): Promise<void>
}
