// Retry one delivery: a failed or dead one goes back in the queue now (after the ESB said yes,
// only the Knack update is repeated). The JSON route and the console both come through here.
import { DeliveryNotFound, NotRetryable } from '../errors.js'
import type { Delivery, Ledger } from '../ledger/types.js'

export interface RetryDeps {
  ledger: Ledger
  clock: () => Date
  wake: () => void
}

/** The delivery as queued again. Throws DeliveryNotFound (404) or NotRetryable (409). */
export async function retryDelivery(deps: RetryDeps, id: number): Promise<Delivery> {
  const d = await deps.ledger.get(id)
  if (!d) throw new DeliveryNotFound(String(id))
  if (!(await deps.ledger.requeue(d.id, deps.clock()))) throw new NotRetryable(String(d.id), d.status)
  deps.wake()
  return (await deps.ledger.get(d.id)) ?? d
}
