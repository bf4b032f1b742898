// Waiting for one delivery's outcome. Polls the ledger, so it also sees work another replica did.
import type { Delivery, Ledger } from '../ledger/types.js'

/** Sent, skipped and dead are final; failed means an attempt was made and a retry is scheduled. */
export const isSettled = (d: Delivery) =>
  d.status === 'sent' || d.status === 'skipped' || d.status === 'dead' || d.status === 'failed'

export async function awaitDelivery(ledger: Ledger, id: number, timeoutMs: number, pollMs = 25): Promise<Delivery | undefined> {
  const deadline = Date.now() + timeoutMs
  let d = await ledger.get(id)
  while (d && !isSettled(d) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(1, deadline - Date.now()))))
    d = await ledger.get(id)
  }
  return d
}
