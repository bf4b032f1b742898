// Coded errors. One error handler (src/routes/error-handler.ts) maps them to the contract's JSON
// shape: { error: <code in lower case>, message, details }. 5xx internals are never shown.
import createError from '@fastify/error'

export interface ErrorDetail {
  field?: string
  message: string
}

/** Attach per-field details to a coded error (the error handler copies them to `details`). */
export function withDetails<E extends Error>(err: E, details: ErrorDetail[]): E & { details: ErrorDetail[] } {
  return Object.assign(err, { details })
}

export const ConfigInvalid = createError<'CONFIG_INVALID', 500, [string]>('CONFIG_INVALID', '%s', 500)
export const UnknownApp = createError<'UNKNOWN_APP', 404, [string]>('UNKNOWN_APP', 'No app named "%s"', 404)
export const RecordInvalid = createError<'RECORD_INVALID', 400, [string]>('RECORD_INVALID', '%s', 400)
export const UnknownActivity = createError<'UNKNOWN_ACTIVITY', 422, [string, string]>(
  'UNKNOWN_ACTIVITY',
  'Activity name "%s" is not in the activity_codes of app %s',
  422
)
export const DeliveryNotFound = createError<'DELIVERY_NOT_FOUND', 404, [string]>('DELIVERY_NOT_FOUND', 'No delivery %s', 404)
export const NotRetryable = createError<'NOT_RETRYABLE', 409, [string, string]>(
  'NOT_RETRYABLE',
  'Delivery %s is %s; only failed or dead deliveries can be retried',
  409
)
export const Unauthorized = createError<'UNAUTHORIZED', 401, [string]>('UNAUTHORIZED', '%s', 401)
/** A filter, time or option an operator gave that cannot be used; `details` names each field. */
export const InvalidInput = createError<'INVALID_INPUT', 400, [string]>('INVALID_INPUT', '%s', 400)
/** A replay asked over HTTP that would read more records from Knack than one request should wait for. */
export const ReplayTooLarge = createError<'REPLAY_TOO_LARGE', 422, [string]>('REPLAY_TOO_LARGE', '%s', 422)
/** The console's login form, asked too often from one address (@fastify/rate-limit). */
export const LoginThrottled = createError<'LOGIN_THROTTLED', 429, [string]>(
  'LOGIN_THROTTLED',
  'Too many login attempts from this address: try again in %s',
  429
)

/** Knack answered with an error, or could not be reached after the client's own retries. */
export const KnackApiError = createError<'KNACK_API_ERROR', 502, [string]>('KNACK_API_ERROR', '%s', 502)
export interface KnackFailure {
  /** HTTP status from Knack, absent for network errors and timeouts. */
  status?: number | undefined
  /** Worth trying again later (5xx, 408, 429, network); false for other 4xx. */
  retryable: boolean
  /** Knack's own `errors[].message` texts. */
  messages: string[]
}
export function knackError(message: string, failure: KnackFailure): Error & KnackFailure {
  return Object.assign(new KnackApiError(message), failure)
}
export function isKnackFailure(err: unknown): err is Error & KnackFailure & { code: 'KNACK_API_ERROR' } {
  return err instanceof Error && (err as { code?: string }).code === 'KNACK_API_ERROR'
}

/** An alert channel (Slack, Teams, the JSON webhook, e-mail) did not take an alert. */
export const AlertChannelFailed = createError<'ALERT_CHANNEL_FAILED', 502, [string]>('ALERT_CHANNEL_FAILED', '%s', 502)
export interface ChannelFailure {
  /** false: the channel refused this payload (retrying the same one will not help). */
  retryable: boolean
  /** The channel asked to wait this long (Retry-After). */
  retryAfterMs?: number | undefined
}
export function channelFailure(message: string, failure: ChannelFailure): Error & ChannelFailure {
  return Object.assign(new AlertChannelFailed(message), failure)
}
export function isChannelFailure(err: unknown): err is Error & ChannelFailure & { code: 'ALERT_CHANNEL_FAILED' } {
  return err instanceof Error && (err as { code?: string }).code === 'ALERT_CHANNEL_FAILED'
}
