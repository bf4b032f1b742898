// Malformed webhook bodies: each gets a clear 4xx in the contract's error shape, nothing is
// stored or sent, and the service stays healthy. Then the three non-error answers that are not
// "queued from the body": ignored, id-only (read from the view), and an id Knack does not know.
import t from 'tap'
import { activityRecord } from '../../src/sandbox/knack-records.js'
import { activity, postWebhook, startStack, waitForStatus } from '../helpers/stack.js'

const appName = 'data-tracker'

interface Case {
  name: string
  /** Raw request body (already serialised). */
  body: string
  headers?: Record<string, string>
  app?: string
  status: number
  error: string | RegExp
  /** The message must match this (it names the problem). */
  message: RegExp
  /** Every one of these must appear among details[].field (or start one: nested paths). */
  fields?: string[]
}

t.test('malformed webhook bodies get a clear 4xx and reach nothing', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const a = stack.appConfig(appName)
  const f = a.fields
  const valid = (overrides: Record<string, unknown> = {}, drop: string[] = []): string => {
    const record: Record<string, unknown> = { ...activityRecord(a, activity()), ...overrides }
    for (const key of drop) delete record[key]
    return JSON.stringify(record)
  }
  const withoutField = (fieldId: string) => [fieldId, `${fieldId}_raw`]
  const fullRecordBody = valid()
  // A valid record with one extra key holding `depth` nested objects.
  const deep = (depth: number) => fullRecordBody.replace(/}$/, `,"deep":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`)

  const cases: Case[] = [
    { name: 'not JSON', body: 'hello there', status: 400, error: 'invalid_json', message: /JSON|Unexpected/i },
    { name: 'truncated JSON', body: fullRecordBody.slice(0, 40), status: 400, error: 'invalid_json', message: /JSON|Unexpected|Unterminated/i },
    { name: 'an array', body: JSON.stringify([JSON.parse(fullRecordBody)]), status: 400, error: 'bad_request', message: /object/, fields: ['body'] },
    { name: 'a string', body: '"5d79a1b2c3d4e5f600000001"', status: 400, error: 'bad_request', message: /object/ },
    { name: 'a number', body: '42', status: 400, error: 'bad_request', message: /object/ },
    { name: 'null', body: 'null', status: 400, error: 'bad_request', message: /object|body/ },
    { name: '{} (no id)', body: '{}', status: 400, error: 'bad_request', message: /id/, fields: ['id'] },
    { name: 'id is an object', body: valid({ id: { $oid: 'abc' } }), status: 400, error: 'record_invalid', message: /id must be a string/, fields: ['id'] },
    { name: 'id is an array', body: valid({ id: ['5d79a1b2c3d4e5f600000001'] }), status: 400, error: 'record_invalid', message: /id must be a string/, fields: ['id'] },
    { name: 'id is a boolean', body: valid({ id: true }), status: 400, error: 'record_invalid', message: /id must be a string/, fields: ['id'] },
    { name: 'id alone, a boolean', body: '{"id": false}', status: 400, error: 'record_invalid', message: /id must be a string/, fields: ['id'] },
    { name: 'id with bad characters', body: valid({ id: '../../objects/x' }), status: 400, error: 'bad_request', message: /id/, fields: ['id'] },
    { name: 'id alone with bad characters', body: '{"id": "abc def"}', status: 400, error: 'bad_request', message: /id/, fields: ['id'] },
    {
      name: 'blank emi', body: valid({ [f.emi_id]: '  ', [`${f.emi_id}_raw`]: ' ' }),
      status: 400, error: 'record_invalid', message: /emi_id.*blank/, fields: [`emi_id (${f.emi_id})`]
    },
    {
      name: 'missing emi', body: valid({}, withoutField(f.emi_id)),
      status: 400, error: 'record_invalid', message: /emi_id.*missing/, fields: [`emi_id (${f.emi_id})`]
    },
    {
      name: 'missing sr_number', body: valid({}, withoutField(f.sr_number)),
      status: 400, error: 'record_invalid', message: /sr_number.*missing/, fields: [`sr_number (${f.sr_number})`]
    },
    {
      name: 'non-numeric atd_activity_id', body: valid({ [f.atd_activity_id]: 'twelve', [`${f.atd_activity_id}_raw`]: 'twelve' }),
      status: 400, error: 'record_invalid', message: /atd_activity_id.*whole number/, fields: [`atd_activity_id (${f.atd_activity_id})`]
    },
    {
      name: 'missing activity name', body: valid({}, withoutField(f.activity_name)),
      status: 400, error: 'record_invalid', message: /activity_name.*missing/, fields: [`activity_name (${f.activity_name})`]
    },
    {
      name: 'several bad fields at once',
      body: valid({ [f.emi_id]: '', [`${f.emi_id}_raw`]: '', [f.atd_activity_id]: 'x', [`${f.atd_activity_id}_raw`]: 'x' }, [
        ...withoutField(f.sr_number), ...withoutField(f.activity_name), ...withoutField(f.activity_datetime)
      ]),
      status: 400, error: 'record_invalid', message: /emi_id.*sr_number|sr_number.*emi_id/s,
      fields: [`emi_id (${f.emi_id})`, `sr_number (${f.sr_number})`, `atd_activity_id (${f.atd_activity_id})`, `activity_name (${f.activity_name})`]
    },
    { name: 'a 5 MB body', body: valid({ pad: 'x'.repeat(5 * 1024 * 1024) }), status: 413, error: 'payload_too_large', message: /large|limit/i },
    { name: 'text/plain', body: fullRecordBody, headers: { 'content-type': 'text/plain' }, status: 415, error: 'unsupported_media_type', message: /text\/plain|media type|content-type/i },
    { name: 'application/xml', body: '<record id="x"/>', headers: { 'content-type': 'application/xml' }, status: 415, error: 'unsupported_media_type', message: /xml|media type|content-type/i },
    { name: 'no content type', body: fullRecordBody, headers: { 'content-type': '' }, status: 415, error: 'unsupported_media_type', message: /media type|content-type/i },
    { name: '__proto__ at the top', body: fullRecordBody.replace(/^{/, '{"__proto__":{"admin":true},'), status: 400, error: 'record_invalid', message: /__proto__ is a forbidden key/, fields: ['record.__proto__'] },
    { name: '__proto__ nested', body: valid({ [f.activity_details]: 'HERE' }).replace('"HERE"', '{"nested":{"__proto__":{"x":1}}}'), status: 400, error: 'record_invalid', message: /__proto__ is a forbidden key/, fields: [`record.${f.activity_details}.nested.__proto__`] },
    { name: 'constructor.prototype', body: fullRecordBody.replace(/^{/, '{"constructor":{"prototype":{"polluted":true}},'), status: 400, error: 'record_invalid', message: /constructor is a forbidden key/, fields: ['record.constructor'] },
    { name: 'deeply nested object', body: deep(200), status: 400, error: 'record_invalid', message: /nests too deeply/, fields: ['record.deep.a.a'] },
    { name: 'absurdly nested (100 000 levels)', body: deep(100_000), status: 400, error: /record_invalid|invalid_json/, message: /deep|nest/i },
    { name: 'missing X-Webhook-Token', body: fullRecordBody, headers: { 'x-webhook-token': '' }, status: 401, error: 'unauthorized', message: /X-Webhook-Token/ },
    { name: 'wrong X-Webhook-Token', body: fullRecordBody, headers: { 'x-webhook-token': `${stack.env.WEBHOOK_SECRET ?? ''}x` }, status: 401, error: 'unauthorized', message: /X-Webhook-Token/ },
    { name: 'the admin token instead', body: fullRecordBody, headers: { 'x-webhook-token': stack.env.ADMIN_TOKEN ?? '' }, status: 401, error: 'unauthorized', message: /X-Webhook-Token/ },
    { name: 'unknown app', body: fullRecordBody, app: 'no-such-app', status: 404, error: 'unknown_app', message: /no-such-app/ }
  ]
  t.ok(cases.length >= 25, `${cases.length} cases`)

  for (const c of cases) {
    // Defaults as a webhook sender would set them; an empty value here means "leave it out".
    const headers: Record<string, string> = { 'x-webhook-token': stack.env.WEBHOOK_SECRET ?? '', 'content-type': 'application/json', ...c.headers }
    for (const [k, v] of Object.entries(headers)) if (v === '') delete headers[k]
    const res = await stack.app!.inject({ method: 'POST', url: `/webhooks/knack/${c.app ?? appName}`, headers, payload: c.body })
    t.test(c.name, async (t) => {
      t.equal(res.statusCode, c.status, res.body.slice(0, 500))
      t.match(res.headers['content-type'], /application\/json/)
      const body = res.json<{ error: unknown; message: unknown; details: unknown }>()
      t.same(Object.keys(body).sort(), ['details', 'error', 'message'], 'exactly the contract error shape')
      t.match(body.error, c.error)
      t.match(body.message, c.message)
      t.ok(Array.isArray(body.details), 'details is a list')
      const detailFields = (body.details as Array<{ field?: string }>).map((d) => d.field)
      // A field is named exactly, or as the start of a longer path (nesting).
      for (const field of c.fields ?? []) {
        t.ok(detailFields.some((d) => d === field || d?.startsWith(`${field}.`)), `details name ${field}: ${JSON.stringify(body.details).slice(0, 300)}`)
      }
      // Secrets never echo back.
      t.notMatch(res.body, stack.env.WEBHOOK_SECRET ?? '-')
    })
  }

  t.same(await stack.deps!.ledger.list({ limit: 100 }), [], 'nothing was stored')
  t.equal(stack.esbSim.attempts, 0, 'nothing reached the ESB')
  t.equal(({} as Record<string, unknown>).admin, undefined, 'no prototype was polluted')
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was polluted')
  const health = await stack.app!.inject({ method: 'GET', url: '/healthz' })
  t.equal(health.statusCode, 200)
  t.same(health.json(), { status: 'ok' })
})

t.test('records that are not errors: ignored, id-only, unknown id', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const a = stack.appConfig(appName)

  t.test('esb_status not READY_TO_SEND → 200 ignored with the reason', async (t) => {
    const sent = activityRecord(a, activity({ status: 'SENT' }))
    const res = await postWebhook(stack, appName, sent)
    t.equal(res.statusCode, 200, res.body)
    t.same(res.json(), { status: 'ignored', reason: 'esb_status is "SENT", not READY_TO_SEND' })
    const blank = activityRecord(a, activity({ status: '' }))
    const res2 = await postWebhook(stack, appName, blank)
    t.equal(res2.statusCode, 200, res2.body)
    t.equal(res2.json<{ status: string }>().status, 'ignored')
    t.match(res2.json<{ reason: string }>().reason, /READY_TO_SEND/)
  })

  t.test('{"id"} alone → read from the view, queued and sent', async (t) => {
    const input = activity()
    stack.seed(appName, [input])
    const res = await postWebhook(stack, appName, { id: input.id })
    t.equal(res.statusCode, 202, res.body)
    const { delivery, status } = res.json<{ delivery: number; status: string }>()
    t.equal(status, 'queued')
    const d = await waitForStatus(stack, delivery, ['sent', 'dead'], 30_000)
    t.equal(d.status, 'sent', d.lastError ?? '')
    t.equal(d.recordId, input.id)
    t.equal(d.srNumber, input.srNumber)
    const [msg] = await stack.esbSim.waitForReceived(1, 30_000)
    t.equal(msg?.values.sr_number, input.srNumber)
    t.equal(msg?.values.emi, input.emiId)
  })

  t.test('{"id"} alone of a record that is not ready → ignored', async (t) => {
    const input = activity({ status: 'DO_NOT_SEND' })
    stack.seed(appName, [input])
    const res = await postWebhook(stack, appName, { id: input.id })
    t.equal(res.statusCode, 200, res.body)
    t.match(res.json(), { status: 'ignored', reason: /DO_NOT_SEND/ })
  })

  t.test('{"id"} of a record Knack does not have → 404 naming it', async (t) => {
    const before = (await stack.deps!.ledger.list({ limit: 100 })).length
    const res = await postWebhook(stack, appName, { id: 'ffffffffffffffffffffffff' })
    t.equal(res.statusCode, 404, res.body)
    const body = res.json<{ error: string; message: string; details: unknown[] }>()
    t.equal(body.error, 'record_not_found')
    t.match(body.message, /ffffffffffffffffffffffff/)
    t.match(body.message, /data-tracker/)
    t.ok(Array.isArray(body.details))
    t.notMatch(res.body, stack.env.KNACK_API_KEY ?? '-', 'no key in the answer')
    t.equal((await stack.deps!.ledger.list({ limit: 100 })).length, before, 'nothing stored')
  })
  const health = await stack.app!.inject({ method: 'GET', url: '/healthz' })
  t.equal(health.statusCode, 200)
})
