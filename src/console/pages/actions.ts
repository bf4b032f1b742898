// GET /console/actions — who did what (retries, bulk retries, resends, replays, sweeps, prunes,
// logins and logouts), newest first, from the same actions log as GET /actions.
import type { FastifyInstance } from 'fastify'
import type { Action } from '../../ledger/lifecycle-types.js'
import { displayZone, timeView } from '../format.js'
import type { ConsoleContext } from '../plugin.js'
import { answers } from '../schemas.js'

const PAGE_SIZE = 50

/** `{app: "x", resolved: {since: …}}` → "app: x · resolved: {"since":"…"}": one line to read. */
export function summary(obj: Record<string, unknown>): string {
  return Object.entries(obj)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' · ')
}

export function actionsPage(app: FastifyInstance, cx: ConsoleContext): void {
  const zone = displayZone(cx.config)

  app.get<{ Querystring: { before?: number } }>(
    '/actions',
    {
      schema: {
        querystring: { type: 'object', properties: { before: { type: 'integer', minimum: 1 } } },
        response: answers(200, 303, 400)
      }
    },
    async (req, reply) => {
      const rows: Action[] = await cx.ops.actions.list({ limit: PAGE_SIZE + 1, before: req.query.before })
      const now = cx.clock()
      const shown = rows.slice(0, PAGE_SIZE)
      const last = shown[shown.length - 1]
      return cx.render(req, reply, 'actions', {
        title: 'Actions',
        nav: 'actions',
        rows: shown.map((a) => ({
          id: a.id,
          at: timeView(a.at, now, zone),
          operator: a.operator,
          kind: a.kind,
          request: summary(a.request),
          result: summary(a.result),
          failed: typeof a.result.error === 'string'
        })),
        olderHref: rows.length > PAGE_SIZE && last ? cx.paths.to(`/actions?before=${last.id}`) : null,
        newerHref: req.query.before !== undefined ? cx.paths.to('/actions') : null
      })
    }
  )
}
