// GET /console/preview?app=&record= — what the service would send for a record, read from Knack
// now, sending nothing (the preview route's twin).
import type { FastifyInstance } from 'fastify'
import { isKnackFailure } from '../../errors.js'
import { planRecord } from '../../message/preview.js'
import { indentXml, prettyJson } from '../format.js'
import type { ConsoleContext } from '../plugin.js'
import { answers } from '../schemas.js'

type Result =
  | { kind: 'xml'; xml: string }
  | { kind: 'none'; reason: string; problems: Array<{ field: string; message: string }> }

export function previewPage(app: FastifyInstance, cx: ConsoleContext): void {
  const appNames = [...cx.config.apps.keys()]

  app.get<{ Querystring: { app?: string; record?: string } }>(
    '/preview',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { app: { type: 'string', maxLength: 100 }, record: { type: 'string', maxLength: 64 } }
        },
        response: answers(200, 303, 400, 404, 502)
      }
    },
    async (req, reply) => {
      const appName = req.query.app ?? ''
      const recordId = (req.query.record ?? '').trim()
      const page = { title: 'Preview a record', nav: 'preview' as const, apps: appNames, form: { app: appName, record: recordId }, result: null, record: null, resendAction: null }
      if (recordId === '') return cx.render(req, reply, 'preview', page)

      const appConfig = cx.config.apps.get(appName)
      if (!appConfig) return cx.render(req, reply, 'preview', { ...page, error: `No app named "${appName}".` }, 404)
      let record
      try {
        record = await cx.knack.readRecord(appConfig, recordId)
      } catch (err) {
        if (isKnackFailure(err) && err.status === 404) {
          return cx.render(req, reply, 'preview', { ...page, error: `No record "${recordId}" in the view of app ${appName}.` }, 404)
        }
        throw err
      }
      const plan = planRecord(appConfig, record, cx.clock())
      const result: Result =
        plan.kind === 'send'
          ? { kind: 'xml', xml: indentXml(plan.xml) }
          : plan.kind === 'invalid'
            ? { kind: 'none', reason: `The record is not valid, so it would end dead: ${plan.summary}`, problems: plan.problems }
            : plan.kind === 'skip'
              ? { kind: 'none', reason: `Nothing would be sent (it would be marked skipped): ${plan.reason}`, problems: [] }
              : { kind: 'none', reason: `It would end dead: ${plan.error.message}`, problems: [] }
      return cx.render(req, reply, 'preview', {
        ...page,
        result,
        record: prettyJson(record),
        resendAction: cx.paths.to(`/apps/${encodeURIComponent(appName)}/records/${encodeURIComponent(recordId)}/resend`)
      })
    }
  )
}
