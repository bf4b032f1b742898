// When a request is actually written to its socket, from undici's diagnostics channels: the
// limiter counts a request from that moment (limiter.ts), not from its grant (a new connection's
// TCP/TLS handshake can come between) nor from its answer (which costs the whole latency).
//
// undici publishes `undici:request:create` while dispatching, synchronously inside
// `pool.request()`, and `undici:client:sendHeaders` just before the head is written to the
// socket. track() arms a callback for the one request created during its call, so requests of
// other clients in the process (or ones the pool queues and creates later) are never mistaken
// for ours: those simply report no write, and the limiter counts them from their answer.
import diagnosticsChannel from 'node:diagnostics_channel'

export interface SendTap {
  /** Runs `start` (which must create exactly one undici request synchronously, e.g. pool.request)
   *  and calls `onSent(epochMs)` each time that request's head is written. */
  track<T>(onSent: (atMs: number) => void, start: () => T): T
  /** Unsubscribes from the channels. */
  close(): void
}

interface RequestMessage {
  request: object
}

export function createSendTap(): SendTap {
  const callbacks = new WeakMap<object, (atMs: number) => void>()
  let arming: ((atMs: number) => void) | undefined

  const onCreate = (message: unknown): void => {
    if (arming === undefined) return
    callbacks.set((message as RequestMessage).request, arming)
    arming = undefined
  }
  const onHeaders = (message: unknown): void => {
    const onSent = callbacks.get((message as RequestMessage).request)
    if (onSent) onSent(Date.now())
  }
  diagnosticsChannel.subscribe('undici:request:create', onCreate)
  diagnosticsChannel.subscribe('undici:client:sendHeaders', onHeaders)

  return {
    track(onSent, start) {
      arming = onSent
      try {
        return start()
      } finally {
        arming = undefined
      }
    },
    close() {
      diagnosticsChannel.unsubscribe('undici:request:create', onCreate)
      diagnosticsChannel.unsubscribe('undici:client:sendHeaders', onHeaders)
    }
  }
}
