// The single-record and single-app actions an operator starts by hand — resend a record, sweep
// an app — recorded in the actions log around the same intake and sweeper the webhook and the
// schedule use.
import type { AppConfig } from '../config/types.js'
import type { Intake, IntakeOutcome } from '../intake/intake.js'
import type { Sweeper, SweepSummary, SweepTrigger } from '../intake/sweep.js'
import type { ActionLog } from './actions.js'

export interface ManualDeps {
  intake: Pick<Intake, 'resend'>
  sweeper: Pick<Sweeper, 'sweep'>
  actions: ActionLog
}

export interface SweepOptions {
  /** How it was asked for (metrics and logs): `http` for routes and the console, `cli`. */
  trigger?: SweepTrigger | undefined
  onFound?: ((found: number) => void) | undefined
}

export interface ManualActions {
  /** Read the record from Knack now and send it whatever its status. */
  resend(app: AppConfig, recordId: string, operator: string): Promise<IntakeOutcome>
  /** Queue every ready record of the app (joining a sweep of it already running). */
  sweep(app: AppConfig, operator: string, opts?: SweepOptions): Promise<SweepSummary & { deliveryIds: number[] }>
}

export function createManualActions(deps: ManualDeps): ManualActions {
  return {
    resend(app, recordId, operator) {
      return deps.actions.around(
        { kind: 'resend', operator, request: { app: app.name, record: recordId } },
        () => deps.intake.resend(app, recordId),
        (o) => (o.status === 'ignored' ? { status: o.status } : { status: o.status, delivery: o.delivery.id })
      )
    },
    sweep(app, operator, opts = {}) {
      return deps.actions.around(
        { kind: 'sweep', operator, request: { app: app.name } },
        () => deps.sweeper.sweep(app, opts.trigger ?? 'http', opts.onFound),
        (r) => ({ found: r.found, queued: r.queued, duplicates: r.duplicates, invalid: r.invalid, joined: r.joined })
      )
    }
  }
}
