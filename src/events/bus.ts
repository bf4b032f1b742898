// The in-process Events: a list of listeners, each called on its own, so a slow or broken one
// (an alert channel) can never hold up or break the worker that emitted.
import type { Logger } from 'pino'
import type { Events, ServiceEvent } from './types.js'

export function createEvents(logger?: Logger): Events {
  const listeners = new Set<(event: ServiceEvent) => void>()
  return {
    emit(event) {
      for (const listener of [...listeners]) {
        try {
          listener(event)
        } catch (err) {
          logger?.error({ err, event: event.type }, 'event listener failed')
        }
      }
    },
    on(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    }
  }
}
