// Per-SR order under load: activities spread over service requests with shuffled
// atd_activity_ids, and the check that the ESB received each once, per SR in that order.
import type { Test } from 'tap'
import type { ActivityInput } from '../../src/sandbox/knack-records.js'
import type { Stack } from '../../src/sandbox/stack.js'
import { shuffled } from './pipeline.js'
import { activity } from './stack.js'

/** `count` activities spread over `srs` service requests, atd_activity_ids shuffled across them. */
export function spread(prefix: string, count: number, srs: number, seed: number): ActivityInput[] {
  const atdIds = shuffled(Array.from({ length: count }, (_, i) => 10_000 + i), seed)
  return atdIds.map((atdActivityId, i) => activity({ atdActivityId, srNumber: `${prefix}-${String(i % srs).padStart(3, '0')}` }))
}

/** Every record reached the ESB once, and per SR in atd_activity_id order. */
export function checkOrder(t: Test, stack: Stack, acts: ActivityInput[]): void {
  const atdOf = new Map(acts.map((a) => [a.id, a.atdActivityId]))
  const received = stack.esbSim.received
  t.equal(received.length, acts.length, 'one ESB message per record')
  t.equal(new Set(received.map((m) => m.values.id)).size, acts.length, 'no record twice')

  const arrivals = new Map<string, number[]>()
  for (const m of received) {
    const sr = m.values.sr_number ?? ''
    const atd = atdOf.get(m.values.id ?? '')
    if (atd === undefined) throw new Error(`ESB got an unknown record ${m.values.id}`)
    arrivals.set(sr, [...(arrivals.get(sr) ?? []), atd])
  }
  const srCount = new Set(acts.map((a) => a.srNumber)).size
  t.equal(arrivals.size, srCount, 'messages of every SR arrived')
  const outOfOrder = [...arrivals].filter(([, atds]) => atds.some((atd, i) => i > 0 && atd < (atds[i - 1] as number)))
  t.same(outOfOrder, [], 'per SR, arrival order equals atd_activity_id order')
}
