// Helpers for the delivery-guarantee tests (test/pipeline): admin routes through inject, and
// waits that end on a real outcome (ledger rows, Knack records), never on elapsed time.
import type { LightMyRequestResponse } from 'fastify'
import type { Stack } from '../../src/sandbox/stack.js'
import type { DeliveryStatus } from '../../src/ledger/types.js'
import { adminHeaders, knackStatus, waitFor } from './stack.js'

/** GET /deliveries/:id as a client sees it (snake_case, with `history`). */
export interface DeliveryView {
  id: number
  record_id: string
  sr_number: string
  atd_activity_id: number
  status: DeliveryStatus
  /** 'body': a webhook body not read back from Knack; 'knack': read from Knack. */
  record_origin: 'body' | 'knack'
  attempts: number
  last_error: string | null
  next_attempt_at: string | null
  esb_accepted_at: string | null
  possible_duplicate: boolean
  history: Array<{ n: number; step: 'esb' | 'knack' | 'build'; outcome: string; detail: string | null }>
}

function service(stack: Stack) {
  if (!stack.app) throw new Error('stack has no service')
  return stack.app
}

export async function getDelivery(stack: Stack, id: number): Promise<DeliveryView> {
  const res = await service(stack).inject({ method: 'GET', url: `/deliveries/${id}`, headers: adminHeaders(stack) })
  if (res.statusCode !== 200) throw new Error(`GET /deliveries/${id} answered ${res.statusCode}: ${res.body}`)
  return res.json<DeliveryView>()
}

export function postSweep(stack: Stack, app: string, query = ''): Promise<LightMyRequestResponse> {
  return service(stack).inject({ method: 'POST', url: `/apps/${app}/sweep${query}`, headers: adminHeaders(stack) })
}

export function postResend(stack: Stack, app: string, recordId: string, wait = '0ms'): Promise<LightMyRequestResponse> {
  return service(stack).inject({ method: 'POST', url: `/apps/${app}/records/${recordId}/resend?wait=${wait}`, headers: adminHeaders(stack) })
}

/** Wait until every listed record holds `status` in Knack (the simulator's copy). */
export function waitForKnackStatus(stack: Stack, app: string, recordIds: readonly string[], status: string, timeoutMs = 30_000): Promise<true> {
  return waitFor(
    () => recordIds.every((id) => knackStatus(stack, app, id) === status) || undefined,
    timeoutMs,
    `${recordIds.length} record(s) to be ${status} in Knack`
  )
}

/** Wait until the worker claimed and found nothing with nothing in flight (throws on timeout). */
export async function waitForIdle(stack: Stack, timeoutMs = 30_000): Promise<void> {
  const idle = await service(stack).service.worker.whenIdle(timeoutMs)
  if (!idle) throw new Error(`worker not idle after ${timeoutMs} ms`)
}

/** How many messages the ESB accepted per Knack record id (the csr `id` element). */
export function esbCountsByRecord(stack: Stack): Map<string, number> {
  const counts = new Map<string, number>()
  for (const m of stack.esbSim.received) {
    const id = m.values.id ?? ''
    counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  return counts
}

/** Shuffle a copy (Fisher-Yates) with a seeded generator so failures can be replayed. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items]
  let s = seed >>> 0 || 1
  const next = () => {
    // xorshift32: deterministic, good enough to mix test data.
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 0x1_0000_0000
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    const a = out[i] as T
    out[i] = out[j] as T
    out[j] = a
  }
  return out
}
