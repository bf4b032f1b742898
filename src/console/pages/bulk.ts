// Bulk retry and replay: the count first (a dry run of the same operation), then a confirmation
// that does it. Both call the operations the JSON routes call, under the operator's name.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { BulkRetryResult } from '../../operations/retry.js'
import { RETRYABLE } from '../../operations/retry.js'
import type { ReplayResult } from '../../operations/replay.js'
import { REPLAY_MAX_PER_REQUEST } from '../../routes/replay.js'
import { filterProperties, filterQuery, hiddenFields, invalidFields, statusOptions, typedFilter, type RawFilter, type TypedFilter } from '../filters.js'
import { displayZone, timeView } from '../format.js'
import type { ConsoleContext } from '../plugin.js'
import { answers, csrfField } from '../schemas.js'

type Problem = { field?: string | undefined; message: string }

/** A refusal the operator can fix in the form (a bad filter or time, a window too large): shown
 *  on the form itself with its status, not as an error page. */
function formProblems(err: unknown): { status: number; problems: Problem[] } | undefined {
  const e = err as { code?: string; statusCode?: number; message?: string; details?: Problem[] }
  if (e.code === 'INVALID_INPUT') return { status: 400, problems: e.details ?? [{ message: e.message ?? 'invalid' }] }
  if (e.code === 'REPLAY_TOO_LARGE') return { status: 422, problems: [{ message: e.message ?? 'too large' }] }
  return undefined
}

interface ReplayFields {
  app: string
  since: string
  until: string
  sr: string
}

export function bulkPages(app: FastifyInstance, cx: ConsoleContext): void {
  const zone = displayZone(cx.config)
  const appNames = [...cx.config.apps.keys()]
  const when = (iso: string) => timeView(new Date(iso), cx.clock(), zone)

  // ---- bulk retry ----
  const retryPage = (f: TypedFilter) => ({
    title: 'Retry in bulk',
    nav: 'retry' as const,
    filter: f,
    apps: appNames,
    statuses: statusOptions(RETRYABLE),
    anyStatus: 'failed or dead',
    zone,
    problems: [] as Problem[],
    invalid: {} as Record<string, boolean>,
    counted: null as { matched: number; phrase: string; hidden: Array<{ name: string; value: string }> } | null,
    done: null as (BulkRetryResult & { changed: string | null; listHref: string }) | null
  })
  const countRetry = async (req: FastifyRequest, reply: FastifyReply, f: TypedFilter) => {
    const page = retryPage(f)
    try {
      const counted = await cx.ops.bulkRetry({ ...f, dry_run: true }, req.operator)
      const phrase = counted.matched === 1 ? 'delivery matches' : 'deliveries match'
      return cx.render(req, reply, 'bulk-retry', { ...page, counted: { matched: counted.matched, phrase, hidden: hiddenFields(f) } })
    } catch (err) {
      const refused = formProblems(err)
      if (!refused) throw err
      return cx.render(req, reply, 'bulk-retry', { ...page, problems: refused.problems, invalid: invalidFields(refused.problems) }, refused.status)
    }
  }

  app.get<{ Querystring: RawFilter & { count?: string } }>(
    '/retry',
    {
      schema: {
        querystring: { type: 'object', properties: { ...filterProperties, count: { type: 'string', maxLength: 10 } } },
        response: answers(200, 303, 400)
      }
    },
    async (req, reply) => {
      const f = typedFilter(req.query)
      if (req.query.count === undefined) return cx.render(req, reply, 'bulk-retry', retryPage(f))
      return countRetry(req, reply, f)
    }
  )

  app.post<{ Body: RawFilter & { expected?: string } }>(
    '/retry',
    {
      schema: {
        body: { type: 'object', properties: { ...filterProperties, expected: { type: 'string', maxLength: 20 }, ...csrfField } },
        response: answers(200, 303, 400, 403)
      }
    },
    async (req, reply) => {
      const f = typedFilter(req.body)
      const page = retryPage(f)
      let done
      try {
        done = await cx.ops.bulkRetry(f, req.operator)
      } catch (err) {
        const refused = formProblems(err)
        if (!refused) throw err
        return cx.render(req, reply, 'bulk-retry', { ...page, problems: refused.problems, invalid: invalidFields(refused.problems) }, refused.status)
      }
      // What was queued is no longer failed or dead: the list link drops the status.
      const listHref = cx.paths.to(`/deliveries?${filterQuery({ ...f, status: '' })}`)
      return cx.render(req, reply, 'bulk-retry', { ...page, done: { ...done, changed: changedSince(req.body.expected, done.matched), listHref } })
    }
  )

  // ---- replay ----
  const replayFields = (raw: Partial<ReplayFields>): ReplayFields => ({
    app: (raw.app ?? '').trim(),
    since: (raw.since ?? '').trim(),
    until: (raw.until ?? '').trim(),
    sr: (raw.sr ?? '').trim()
  })
  const replayPage = (f: ReplayFields) => ({
    title: 'Replay a window',
    nav: 'replay' as const,
    form: f,
    apps: appNames,
    zone,
    problems: [] as Problem[],
    invalid: {} as Record<string, boolean>,
    counted: null as (Pick<ReplayResult, 'matched'> & { noun: string; since: ReturnType<typeof when>; until: ReturnType<typeof when> }) | null,
    done: null as (ReplayResult & { changed: string | null; listHref: string }) | null
  })
  const replayApp = (f: ReplayFields) => cx.config.apps.get(f.app)
  const noApp = (f: ReplayFields): Problem[] => [{ field: 'app', message: f.app === '' ? 'is required' : `no app named "${f.app}"` }]
  const replayProperties = {
    app: { type: 'string', maxLength: 100 },
    since: { type: 'string', maxLength: 64 },
    until: { type: 'string', maxLength: 64 },
    sr: { type: 'string', maxLength: 64 }
  } as const

  app.get<{ Querystring: Partial<ReplayFields> & { count?: string } }>(
    '/replay',
    {
      schema: {
        querystring: { type: 'object', properties: { ...replayProperties, count: { type: 'string', maxLength: 10 } } },
        response: answers(200, 303, 400, 422)
      }
    },
    async (req, reply) => {
      const f = replayFields(req.query)
      const page = replayPage(f)
      if (req.query.count === undefined) return cx.render(req, reply, 'replay', page)
      const appConfig = replayApp(f)
      if (!appConfig) return cx.render(req, reply, 'replay', { ...page, problems: noApp(f), invalid: { app: true } }, 400)
      try {
        const counted = await cx.ops.replay(appConfig, { since: f.since, until: f.until, sr: f.sr, dry_run: true }, req.operator)
        const noun = counted.matched === 1 ? 'activity' : 'activities'
        return cx.render(req, reply, 'replay', { ...page, counted: { matched: counted.matched, noun, since: when(counted.since), until: when(counted.until) } })
      } catch (err) {
        const refused = formProblems(err)
        if (!refused) throw err
        return cx.render(req, reply, 'replay', { ...page, problems: refused.problems, invalid: invalidFields(refused.problems) }, refused.status)
      }
    }
  )

  app.post<{ Body: Partial<ReplayFields> & { expected?: string } }>(
    '/replay',
    {
      schema: {
        body: { type: 'object', properties: { ...replayProperties, expected: { type: 'string', maxLength: 20 }, ...csrfField } },
        response: answers(200, 303, 400, 403, 422, 502)
      }
    },
    async (req, reply) => {
      const f = replayFields(req.body)
      const page = replayPage(f)
      const appConfig = replayApp(f)
      if (!appConfig) return cx.render(req, reply, 'replay', { ...page, problems: noApp(f), invalid: { app: true } }, 400)
      let done
      try {
        done = await cx.ops.replay(appConfig, { since: f.since, until: f.until, sr: f.sr }, req.operator, { maxRecords: REPLAY_MAX_PER_REQUEST })
      } catch (err) {
        const refused = formProblems(err)
        if (!refused) throw err
        return cx.render(req, reply, 'replay', { ...page, problems: refused.problems, invalid: invalidFields(refused.problems) }, refused.status)
      }
      const listHref = cx.paths.to(`/deliveries?${filterQuery(typedFilter({ app: f.app, sr: f.sr }))}`)
      return cx.render(req, reply, 'replay', { ...page, done: { ...done, changed: changedSince(req.body.expected, done.matched), listHref } })
    }
  )
}

/** The count shown before the confirmation, when it is no longer what matched. */
function changedSince(expected: string | undefined, matched: number): string | null {
  const n = Number(expected)
  if (expected === undefined || expected === '' || !Number.isInteger(n) || n === matched) return null
  return `${n} matched when counted; ${matched} matched when it was done.`
}
