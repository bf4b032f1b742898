// When a request is actually written to its socket, from undici's diagnostics channels: the
// limiter counts a request from that moment (limiter.ts), not from its grant (a new connection's
// TCP/TLS handshake can come between) nor from its answer (which costs the whole latency).
//
// undici publishes `undici:request:create` while dispatching, synchronously inside
// `pool.request()`, and `undici:client:sendHeaders` just before the head is written to the
// socket. track() arms a callback for the one request created during its call, so requests of
// other clients in the process (or ones the pool queues and creates later) are never mistaken
// for ours: those simply report no write, and the limiter counts them from their answer.
//
// The first request on a new connection is not reported either: the far end may still be
// setting the connection up (accepting it, routing it, a cold process) when our bytes are
// already written, so its arrival can trail the write by far more than the network's spread.
// The limiter counts such a request from its answer, as for an unknown write. That was the case
// that broke counting from the send before (a first burst on new connections, 14–19 requests in
// one of the simulator's windows); keep-alive makes it rare after the first burst.
import diagnosticsChannel from 'node:diagnostics_channel'

export interface SendTap {
  /** Runs `start` (which must create exactly one undici request synchronously, e.g. pool.request)
   *  and calls `onSent(epochMs)` each time that request's head is written on a connection that
   *  has carried a request before, `onSent(null)` when it is written on a new one. */
  track<T>(onSent: (atMs: number | null) => void, start: () => T): T
  /** Unsubscribes from the channels. */
  close(): void
}

interface RequestMessage {
  request: object
  socket?: object
}

export function createSendTap(): SendTap {
  const callbacks = new WeakMap<object, (atMs: number | null) => void>()
  /** Connections that have carried a request. */
  const warm = new WeakSet<object>()
  let arming: ((atMs: number | null) => void) | undefined

  const onCreate = (message: unknown): void => {
    if (arming === undefined) return
    callbacks.set((message as RequestMessage).request, arming)
    arming = undefined
  }
  const onHeaders = (message: unknown): void => {
    const { request, socket } = message as RequestMessage
    const onSent = callbacks.get(request)
    if (!onSent || socket === undefined) return
    if (warm.has(socket)) return onSent(Date.now())
    // A new connection: this write does not bound the arrival (and cancels any earlier write of
    // the same request, as when undici retries it on a new connection).
    warm.add(socket)
    onSent(null)
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
