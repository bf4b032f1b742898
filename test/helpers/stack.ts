// Shared test helpers around the sandbox stack (src/sandbox/stack.ts): real simulators on
// loopback, the real service built by buildApp, requests through Fastify's inject.
import type { LightMyRequestResponse } from 'fastify'
import type { Stack } from '../../src/sandbox/stack.js'
import type { Delivery } from '../../src/ledger/types.js'
import type { ActivityInput } from '../../src/sandbox/knack-records.js'

export { startStack } from '../../src/sandbox/stack.js'

/** POST a webhook body (object or raw string) with the right token unless headers say otherwise. */
export function postWebhook(stack: Stack, app: string, payload: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  const service = stack.app
  if (!service) throw new Error('stack has no service')
  return service.inject({
    method: 'POST',
    url: `/webhooks/knack/${app}`,
    headers: { 'x-webhook-token': stack.env.WEBHOOK_SECRET ?? '', 'content-type': 'application/json', ...headers },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload)
  })
}

export function adminHeaders(stack: Stack): Record<string, string> {
  return { authorization: `Bearer ${stack.env.ADMIN_TOKEN ?? ''}` }
}

/** Poll `check` every 20 ms until it returns a truthy value or `timeoutMs` passes (then throws). */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Wait until the delivery reaches one of `statuses`. */
export function waitForStatus(stack: Stack, id: number, statuses: Delivery['status'][], timeoutMs = 10_000): Promise<Delivery> {
  return waitFor(async () => {
    const d = await stack.deps?.ledger.get(id)
    return d && statuses.includes(d.status) ? d : undefined
  }, timeoutMs, `delivery ${id} to be ${statuses.join('/')}`)
}

let seq = 0
/** A ready activity with sensible defaults; ids are unique within the process. */
export function activity(overrides: Partial<ActivityInput> = {}): ActivityInput {
  seq++
  return {
    id: `a${String(seq).padStart(23, '0')}`,
    atdActivityId: 1000 + seq,
    emiId: `EMI-${seq}`,
    srNumber: `SR-${seq}`,
    status: 'READY_TO_SEND',
    activityName: 'Dispatch Technician',
    issueStatus: 'in_progress',
    details: `activity ${seq}`,
    when: { date: '2026-11-28', time: '10:00' },
    ...overrides
  }
}

/** The record as Knack holds it now. */
export function knackRecord(stack: Stack, app: string, id: string) {
  const a = stack.appConfig(app)
  return stack.knackSim.getRecord(a.credentials.appId, a.obj, id)
}

export function knackStatus(stack: Stack, app: string, id: string): unknown {
  const a = stack.appConfig(app)
  return knackRecord(stack, app, id)?.[a.fields.esb_status]
}
