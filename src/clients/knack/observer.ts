// Hooks for metrics, so the Knack client needs no knowledge of prom-client. Every callback is
// optional and must not throw (the client guards each call anyway).

export interface KnackObserver {
  /** One HTTP exchange (each retry is its own exchange). `route` is a template such as
   *  `/objects/:obj/records/:id`; `status` is the HTTP status or 'error' for network errors/timeouts. */
  request?(method: string, route: string, status: number | 'error', seconds: number): void
  /** Knack answered 429 for this application id. */
  rateLimited?(appId: string): void
  /** Time a request waited for the per-app rate limiter before it was sent. */
  limiterWait?(appId: string, ms: number): void
  /** `X-PlanLimit-Remaining`: calls left today on the plan. */
  planRemaining?(appId: string, n: number): void
}
