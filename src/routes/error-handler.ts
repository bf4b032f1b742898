// One place that turns errors into the contract's JSON: { error, message, details }.
// Client errors say what was wrong; server errors never show internals.
import type { FastifyError, FastifyInstance } from 'fastify'

interface Detail {
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

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError & { details?: Detail[] }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500
    if (status >= 500 && !err.code?.startsWith('KNACK_')) {
      req.log.error({ err }, 'request failed')
      return reply.code(status).send({ error: 'internal', message: 'Internal error', details: [] })
    }
    const details: Detail[] = err.details ??
      (err.validation ?? []).map((v) => ({
        field: (v.instancePath || '/').replace(/^\//, '').replace(/\//g, '.') || String(v.params?.missingProperty ?? 'body'),
        message: v.message ?? 'is invalid'
      }))
    const code = (err.code && FASTIFY_CODES[err.code]) ?? (err instanceof SyntaxError ? 'invalid_json' : (err.code ?? 'bad_request').toLowerCase())
    if (status >= 500) req.log.warn({ err: err.message }, 'upstream failed')
    return reply.code(status).send({ error: code, message: err.message, details })
  })
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'not_found', message: `No route ${req.method} ${req.url.split('?')[0]}`, details: [] })
  })
}
