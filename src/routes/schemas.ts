// JSON schemas shared by the routes (answers are serialised through them) and mirrored in openapi.yaml.
import { DELIVERY_STATUSES, RECORD_ORIGINS } from '../ledger/types.js'

export const errorSchema = {
  type: 'object',
  required: ['error', 'message', 'details'],
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    details: { type: 'array', items: { type: 'object', additionalProperties: true } }
  }
} as const

const nullableString = { type: ['string', 'null'] } as const

export const deliverySchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    app: { type: 'string' },
    record_id: { type: 'string' },
    sr_number: { type: 'string' },
    atd_activity_id: { type: 'integer' },
    status: { type: 'string', enum: [...DELIVERY_STATUSES] },
    source: { type: 'string' },
    record_origin: { type: 'string', enum: [...RECORD_ORIGINS] },
    attempts: { type: 'integer' },
    next_attempt_at: nullableString,
    last_error: nullableString,
    esb_response: nullableString,
    esb_accepted_at: nullableString,
    possible_duplicate: { type: 'boolean' },
    content_hash: { type: 'string' },
    created_at: { type: 'string' },
    updated_at: { type: 'string' }
  }
} as const

export const attemptSchema = {
  type: 'object',
  properties: {
    n: { type: 'integer' },
    step: { type: 'string' },
    outcome: { type: 'string' },
    detail: nullableString,
    started_at: { type: 'string' },
    finished_at: { type: 'string' }
  }
} as const

export const appParams = {
  type: 'object',
  required: ['app'],
  properties: { app: { type: 'string', maxLength: 100 } }
} as const

export const recordParams = {
  type: 'object',
  required: ['app', 'id'],
  properties: { app: { type: 'string', maxLength: 100 }, id: { type: 'string', minLength: 1, maxLength: 64 } }
} as const

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1 } }
} as const

/** The usual client-error answers every protected route can give. */
export const clientErrors = { 400: errorSchema, 401: errorSchema, 404: errorSchema } as const
