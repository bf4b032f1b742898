// Shared by the Knack client and simulator tests: an app shaped like data-tracker
// (reference/apps.md) and records for it.
import type { AppConfig } from '../../../src/config/types.js'
import type { KnackRecord } from '../../../src/clients/knack/types.js'
import { activityRecord } from '../../../src/sandbox/knack-records.js'

export const API_KEY = 'sekrit-api-key-5f2b9c0e7d1a'

export function testApp(overrides: Partial<AppConfig> = {}): AppConfig {
  return {
    name: 'data-tracker',
    obj: 'object_75',
    scene: 'scene_514',
    view: 'view_1653',
    timezone: 'America/Chicago',
    fields: {
      id: 'id',
      atd_activity_id: 'field_1051',
      emi_id: 'field_1868',
      sr_number: 'field_1232',
      issue_status_code_snapshot: 'field_1874',
      esb_status: 'field_1860',
      activity_datetime: 'field_1054',
      activity_details: 'field_1055',
      activity_name: 'field_1053',
      csr_activity_id: 'field_4583',
      csr_activity_code: 'field_4582'
    },
    activity_codes: { 'Dispatch Technician': 'DISPTECH', Other: null },
    status_rewrites: { closed_duplicate: 'closed_resolved' },
    statuses: { ready: 'READY_TO_SEND', sent: 'SENT', skipped: 'DO_NOT_SEND' },
    outcome_code: 'COMPLET1',
    credentials: { appId: 'app-data-tracker', apiKey: API_KEY },
    ...overrides
  }
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
