// An alert as people read it, before any channel's own format: what the renderer makes of a
// stored alert and every channel (Slack, Teams, the JSON webhook, e-mail) formats from.

/** critical: someone must act; warning: will need action soon; info: for the record; resolved: a
 *  critical or warning state is over. */
export type Severity = 'critical' | 'warning' | 'info' | 'resolved'

export interface AlertLink {
  label: string
  url: string
}

export interface AlertItem {
  text: string
  /** The console page of the thing the line names, when PUBLIC_URL is set. */
  url?: string | undefined
}

export interface AlertMessage {
  /** The outbox row's id; null for `knack311 alert-test`, which writes nothing. */
  id: number | null
  kind: string
  /** The same for every send of one alert: receivers may use it to drop a repeat. */
  key: string
  severity: Severity
  /** One line. */
  title: string
  /** A sentence or two: what it means and what to do. */
  summary: string
  facts: Array<{ name: string; value: string }>
  /** Lines that belong together (dead deliveries, one line per app in the digest). */
  items: AlertItem[]
  /** Items gathered but not listed, when there were too many to show. */
  moreItems: number
  links: AlertLink[]
  /** When the alert was written (ISO 8601). */
  createdAt: string
  /** The stored data, for receivers that process alerts rather than show them. */
  data: Record<string, unknown>
}
