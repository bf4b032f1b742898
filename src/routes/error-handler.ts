// One place that turns errors into the contract's JSON: { error, message, details }.
// Client errors say what was wrong; server errors never show internals.
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import { isKnackFailure } from '../errors.js'

export interface Detail {
  field?: string
  message: string
}

// Fastify's own codes for bad requests, named the way our answers name errors.
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_VALIDATION: 'bad_request'
}

export interface ErrorAnswer {
  status: number
  body: { error: string; message: string; details: Detail[] }
}

/** The answer for an error: its status and the contract's JSON body. The console renders the same
 *  answer as a page. Logs what a person should look at (5xx), never shows internals. */
export function errorAnswer(err: FastifyError & { details?: Detail[] }, req: FastifyRequest): ErrorAnswer {
  const missing = missingRecord(err, req)
  if (missing) return { status: 404, body: { error: 'record_not_found', message: missing, details: [] } }
  const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500
  if (status >= 500 && !err.code?.startsWith('KNACK_')) {
    req.log.error({ err }, 'request failed')
    return { status, body: { error: 'internal', message: 'Internal error', details: [] } }
  }
  const details: Detail[] = err.details ??
    (err.validation ?? []).map((v) => ({
      field: (v.instancePath || '/').replace(/^\//, '').replace(/\//g, '.') || String(v.params?.missingProperty ?? 'body'),
      message: v.message ?? 'is invalid'
    }))
  const code = (err.code && FASTIFY_CODES[err.code]) ?? (err instanceof SyntaxError ? 'invalid_json' : (err.code ?? 'bad_request').toLowerCase())
  if (status >= 500) req.log.warn({ err: err.message }, 'upstream failed')
  return { status, body: { error: code, message: err.message, details } }
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError & { details?: Detail[] }, req, reply) => {
    const answer = errorAnswer(err, req)
    return reply.code(answer.status).send(answer.body)
  })
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'not_found', message: `No route ${req.method} ${req.url.split('?')[0]}`, details: [] })
  })
}

/**
 * A Knack 404 while reading the record a request names (webhook `{"id"}`, resend, preview) means
 * the record does not exist: the caller's mistake, not an upstream failure. Other Knack 404s
 * (a missing view or object during a sweep) stay 502: that is our configuration, not theirs.
 */
function missingRecord(err: unknown, req: FastifyRequest): string | undefined {
  if (!isKnackFailure(err) || err.status !== 404) return undefined
  const params = req.params as { app?: unknown; id?: unknown } | undefined
  const body = req.body as { id?: unknown } | undefined
  const id = typeof params?.id === 'string' ? params.id : typeof body?.id === 'string' ? body.id : undefined
  if (id === undefined || typeof params?.app !== 'string') return undefined
  const knackSays = err.messages.length > 0 ? ` (Knack: ${err.messages.join('; ')})` : ''
  return `No record "${id}" in the view of app ${params.app}${knackSays}`
}
