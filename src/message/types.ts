// The typed activity between a Knack record and the SOAP message. Pure data.

export interface Activity {
  id: string
  atdActivityId: number
  emiId: string
  srNumber: string
  issueStatusCode: string | null
  esbStatus: string | null
  /** ISO 8601 with the app's offset, e.g. 2019-09-11T16:14:00-05:00; null when blank. */
  activityDate: string | null
  activityDetails: string | null
  activityName: string | null
  csrActivityId: string | null
  csrActivityCode: string | null
}

/** What the worker should do with an activity. */
export type MessagePlan =
  | { kind: 'send'; xml: string; activityTypeCode: string }
  | { kind: 'skip'; reason: string }

export interface FieldProblem {
  /** Message variable and Knack field id, e.g. "emi_id (field_1868)". */
  field: string
  message: string
}
