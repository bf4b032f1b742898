// Shared-secret checks in constant time: both sides are hashed first so their lengths match.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { Operator } from '../config/types.js'
import { Unauthorized } from '../errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking: "admin" for ADMIN_TOKEN, an OPERATOR_TOKENS name, '' before authentication. */
    operator: string
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest()

export function sameSecret(given: string | undefined, expected: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(expected))
}

/** The operator holding `token`, or undefined. Every operator is compared, so the time taken
 *  does not tell which one (or whether any) matched. */
export function operatorFor(operators: readonly Operator[], token: string | undefined): Operator | undefined {
  let found: Operator | undefined
  for (const o of operators) if (sameSecret(token, o.token) && found === undefined) found = o
  return found
}

/** onRequest hook for the webhook: runs before the body is read. */
export function requireWebhookToken(secret: string) {
  return async (req: FastifyRequest) => {
    const given = req.headers['x-webhook-token']
    if (!sameSecret(typeof given === 'string' ? given : undefined, secret)) {
      throw new Unauthorized('Missing or wrong X-Webhook-Token')
    }
  }
}

/** onRequest hook for admin routes: `Authorization: Bearer <ADMIN_TOKEN or an OPERATOR_TOKENS token>`;
 *  names the operator on the request, for the actions log. */
export function requireOperator(operators: readonly Operator[]) {
  return async (req: FastifyRequest) => {
    const header = req.headers.authorization
    const given = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined
    const operator = operatorFor(operators, given)
    if (!operator) throw new Unauthorized('Missing or wrong bearer token')
    req.operator = operator.name
  }
}
