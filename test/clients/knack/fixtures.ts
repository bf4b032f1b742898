// Shared by the Knack client and simulator tests: an app shaped like data-tracker
// (reference/apps.md) and records for it.
import type { AppConfig } from '../../../src/config/types.js'
import type { KnackRecord } from '../../../src/clients/knack/types.js'
import { activityRecord } from '../../../src/sandbox/knack-records.js'
import { dataTrackerApp } from '../../message/records.js'

export const API_KEY = 'sekrit-api-key-5f2b9c0e7d1a'

/** The data-tracker app of test/message/records.ts, with this folder's credentials. */
export function testApp(overrides: Partial<AppConfig> = {}): AppConfig {
  return { ...dataTrackerApp(), credentials: { appId: 'app-data-tracker', apiKey: API_KEY }, ...overrides }
}

/** An activity record with atd_activity_id `n` (id `rec-<n>`). */
export function activity(app: AppConfig, n: number, opts: { status?: string; emiId?: string } = {}): KnackRecord {
  return activityRecord(app, {
    id: `rec-${n}`,
    atdActivityId: n,
    emiId: opts.emiId ?? `EMI-${n}`,
    srNumber: `SR-${Math.floor(n / 3)}`,
    status: opts.status ?? app.statuses.ready,
    activityName: 'Dispatch Technician',
    details: `Line one of ${n}\nLine <two> & more`,
    issueStatus: 'in_progress',
    when: { date: '2019-09-11', time: '16:14' }
  })
}
