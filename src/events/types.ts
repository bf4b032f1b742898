// What the service announces as it works. The worker and the clients emit these through the
// Events they are given; alerts and metrics listen. Nothing that listens reaches back into the
// worker, and an emitter never waits for a listener.

/** The delivery an event is about, as much as a person needs to find it. */
export interface EventDelivery {
  id: number
  app: string
  recordId: string
  srNumber: string
}

export type ServiceEvent =
  /** A delivery gave up: RETRY_SCHEDULE ran out, the record is invalid, or Knack refused it. */
  | { type: 'delivery.dead'; at: Date; delivery: EventDelivery; reason: string }
  /** Sending stopped: the ESB endpoint itself kept failing (ESB_PAUSE_AFTER in a row). */
  | { type: 'esb.paused'; at: Date; since: Date; lastError: string }
  /** Sending resumed after a pause: the first success since `pausedSince`. */
  | { type: 'esb.resumed'; at: Date; pausedSince: Date; lastError: string | null }
  /** Knack answered 401/403: the app's credentials are wrong or revoked. */
  | { type: 'knack.credentials_refused'; at: Date; app: string; status: number; message: string }
  /** Knack's daily plan is nearly used up (X-PlanLimit-Remaining under 10 % of X-PlanLimit-Limit). */
  | { type: 'knack.plan_low'; at: Date; app: string; remaining: number; limit: number }
  /** New ESB certificate files were checked and are used for new connections. */
  | { type: 'certificate.replaced'; at: Date; subject: string; expiresAt: Date }
  /** New ESB certificate files were refused (unreadable, key does not match): the old pair stays. */
  | { type: 'certificate.refused'; at: Date; reason: string }

export type ServiceEventType = ServiceEvent['type']
export type EventOf<T extends ServiceEventType> = Extract<ServiceEvent, { type: T }>

export interface Events {
  /** Announce; returns at once. A listener that throws is logged, never the emitter's problem. */
  emit(event: ServiceEvent): void
  /** Listen to every event; returns a function that stops listening. */
  on(listener: (event: ServiceEvent) => void): () => void
}
