// Shared-secret checks in constant time: both sides are hashed first so their lengths match.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { Unauthorized } from '../errors.js'

const digest = (s: string) => createHash('sha256').update(s).digest()

export function sameSecret(given: string | undefined, expected: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(expected))
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

/** onRequest hook for admin routes: `Authorization: Bearer <ADMIN_TOKEN>`. */
export function requireAdminToken(token: string) {
  return async (req: FastifyRequest) => {
    const header = req.headers.authorization
    const given = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined
    if (!sameSecret(given, token)) throw new Unauthorized('Missing or wrong bearer token')
  }
}
