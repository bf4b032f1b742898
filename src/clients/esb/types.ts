/** What the ESB made of one message. Never thrown: the worker decides what each means. */
export type EsbOutcome =
  | { kind: 'accepted'; status: number; body: string }
  | {
      kind: 'rejected'
      /** true: 5xx, timeout, refused/reset connection, 2xx carrying a SOAP fault. false: other 4xx. */
      retryable: boolean
      status?: number | undefined
      faultCode?: string | undefined
      faultString?: string | undefined
      /** One line for the delivery's last_error, e.g. "HTTP 500 env:Client: Internal Error". */
      reason: string
    }

export interface EsbClient {
  send(xml: string): Promise<EsbOutcome>
  close(): Promise<void>
}
