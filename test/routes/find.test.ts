// GET /deliveries with the new filters and GET /deliveries.csv, against the real service and the
// simulators: the CSV, parsed back by a CSV library, holds exactly the JSON rows, and cells that
// a spreadsheet would run (=1+1, +…, -…, @…) come out as text. (Every filter alone and combined
// over 2,500 rows, on both stores, is test/ledger/lifecycle-suite.ts.)
import { parse } from 'csv-parse/sync'
import t from 'tap'
import { CSV_COLUMNS } from '../../src/routes/csv.js'
import { activity, adminHeaders, postWebhook, startStack, waitFor } from '../helpers/stack.js'

const dt = 'data-tracker'

t.test('find and export', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const service = stack.app!
  const get = (url: string) => service.inject({ method: 'GET', url, headers: adminHeaders(stack) })

  // SR numbers are free text in Knack: a spreadsheet would run the first four; the last needs
  // RFC 4180 quoting (a quote, a comma and a line break).
  const hostile = ['=1+1', '+SUM(A1:A9)', '-2+3', '@cmd', 'SR-"quoted", with comma\nand a second line']
  const acts = hostile.map((sr) => activity({ srNumber: sr }))
  // An activity name the app file does not know: dead, with the name (quotes, comma) in the reason.
  const faulted = [1, 2].map((k) => activity({ srNumber: `SR-fault-${k}`, activityName: '=1+1 "bad code", see line 2' }))
  stack.seed(dt, [...acts, ...faulted])
  for (const a of acts) t.equal((await postWebhook(stack, dt, { id: a.id })).statusCode, 202)
  await waitFor(async () => (await stack.deps!.ledger.count({ status: 'sent' })) === acts.length || undefined, 60_000, 'the first five sent')
  for (const a of faulted) t.equal((await postWebhook(stack, dt, { id: a.id })).statusCode, 202)
  await waitFor(async () => {
    const rows = await stack.deps!.ledger.list({ q: 'bad code', limit: 10 })
    return rows.length === 2 && rows.every((d) => d.status === 'dead') ? rows : undefined
  }, 60_000, 'the two faulted deliveries to be dead with the fault as their error')

  const json = (await get('/deliveries?limit=1000')).json<Array<Record<string, unknown>>>()
  t.equal(json.length, 7)

  t.test('the CSV holds the JSON rows, column for column, in the same order', async (t) => {
    const res = await get('/deliveries.csv')
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^text\/csv; charset=utf-8/)
    t.match(res.headers['content-disposition'], /attachment; filename="deliveries.csv"/)
    t.match(res.body, /\r\n/, 'CRLF line ends (RFC 4180)')
    const [header, ...rows] = parse(res.body, { relax_column_count: false }) as string[][]
    t.same(header, CSV_COLUMNS, 'the header names the JSON fields in order')
    t.same(header, Object.keys(json[0] ?? {}), 'the JSON answer has exactly those fields')
    t.equal(rows.length, json.length)
    const guarded = /^[=+\-@\t\r]/
    rows.forEach((row, i) => {
      const expected = CSV_COLUMNS.map((c) => {
        const v = (json[i] as Record<string, unknown>)[c]
        const text = v === null || v === undefined ? '' : String(v)
        return guarded.test(text) ? `'${text}` : text
      })
      t.same(row, expected, `row ${i + 1} (delivery ${String(json[i]?.id)})`)
    })
  })

  t.test('a formula in a cell comes out as text', async (t) => {
    const rows = parse((await get(`/deliveries.csv?sr=${encodeURIComponent('=1+1')}`)).body, { columns: true }) as Array<Record<string, string>>
    t.equal(rows.length, 1)
    t.equal(rows[0]?.sr_number, "'=1+1", 'prefixed with a quote: shown, never evaluated')
    const all = parse((await get('/deliveries.csv')).body, { columns: true }) as Array<Record<string, string>>
    for (const cell of all.flatMap((r) => Object.values(r))) t.notMatch(cell, /^[=+\-@]/, `no cell starts a formula: ${JSON.stringify(cell.slice(0, 20))}`)
    const errors = all.filter((r) => r.last_error !== '').map((r) => r.last_error)
    t.equal(errors.length, 2)
    for (const e of errors) t.match(e, /"bad code", see line 2/, 'quotes and commas survive the quoting')
    const multiline = all.find((r) => r.sr_number?.includes('\n'))
    t.equal(multiline?.sr_number, 'SR-"quoted", with comma\nand a second line', 'so does a line break')
  })

  t.test('filters through the route: sr, record, q, since/until as ISO or relative', async (t) => {
    const ids = (url: string) => get(url).then((r) => r.json<Array<{ id: number; record_id: string }>>())
    t.same((await ids(`/deliveries?record=${acts[1]?.id}`)).map((d) => d.record_id), [acts[1]?.id])
    t.same((await ids(`/deliveries?sr=${encodeURIComponent('-2+3')}`)).map((d) => d.record_id), [acts[2]?.id])
    t.same((await ids('/deliveries?q=BAD%20CODE')).map((d) => d.record_id).sort(), faulted.map((a) => a.id).sort(), 'q ignores case')
    t.equal((await ids('/deliveries?since=1h')).length, 7, 'relative since')
    t.equal((await ids('/deliveries?until=2020-01-01')).length, 0, 'a date alone is its midnight in the first app zone')
    t.equal((await ids(`/deliveries?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).length, 0, 'ISO with an offset')
    t.same((await ids(`/deliveries?app=data-tracker&since=2h&until=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}&q=bad`)).map((d) => d.record_id).sort(), faulted.map((a) => a.id).sort(), 'filters combined')
    t.same(await ids('/deliveries?app=signs-markings&q=bad'), [], 'and one that rules them out')
    const page1 = await ids('/deliveries?limit=4')
    const page2 = await ids(`/deliveries?limit=4&before=${page1[3]?.id}`)
    t.same([...page1, ...page2].map((d) => d.id), json.map((d) => d.id), 'two pages are the whole list, in order')
    t.equal(parse((await get('/deliveries.csv?limit=2')).body).length, 3, 'CSV limit: a header and two rows')
  })

  t.test('bad filters: 400 naming each field', async (t) => {
    const bad = await get('/deliveries?since=yesterday&until=2026-02-30T10:00')
    t.equal(bad.statusCode, 400)
    const body = bad.json<{ error: string; details: Array<{ field: string; message: string }> }>()
    t.equal(body.error, 'invalid_input')
    t.same(body.details.map((d) => d.field).sort(), ['since', 'until'])
    t.match(body.details.find((d) => d.field === 'since')?.message, /not a time/)
    const order = await get('/deliveries?since=2026-01-02&until=2026-01-01')
    t.match(order.json(), { error: 'invalid_input', details: [{ field: 'until', message: /later than since/ }] })
    t.equal((await get('/deliveries?limit=0')).statusCode, 400)
    t.equal((await get('/deliveries?status=lost')).statusCode, 400)
    const csv = await get('/deliveries.csv?before=3')
    t.match(csv.json(), { error: 'invalid_input', details: [{ field: 'before' }] })
    t.equal((await service.inject({ method: 'GET', url: '/deliveries.csv' })).statusCode, 401, 'the CSV needs the token too')
  })
})
