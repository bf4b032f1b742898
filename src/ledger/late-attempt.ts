// An ESB yes that arrives after the worker's lease was taken over: the row's status belongs to the
// new owner now, but the history must say the ESB has the message (both stores record it so).
import type { AttemptRecord } from './types.js'

export function lateAttempt(a: AttemptRecord): AttemptRecord {
  const note = 'after this worker lost its lease: the ESB has the message, the new owner may send it again'
  return { ...a, detail: a.detail ? `${a.detail} (${note})` : note }
}
