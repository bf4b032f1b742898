// The sandbox demo (`npm run demo`): run in process and read its report; then as the CLI does it,
// with --serve and no environment at all, use the printed curl targets and stop it with Ctrl-C.
import { spawn } from 'node:child_process'
import t from 'tap'
import { runSandbox } from '../../src/sandbox/demo.js'
import { sandboxDay } from '../../src/sandbox/seed.js'

const ROOT = new URL('../../', import.meta.url).pathname

t.test('the demo report: webhook, sweeps, what the ESB got, what Knack holds, what did not go', async (t) => {
  const lines: string[] = []
  const code = await runSandbox({ serve: false, out: (line) => void lines.push(line) })
  const report = lines.join('\n')
  t.equal(code, 0, 'exit code 0')
  t.ok(lines.length < 60, `short: ${lines.length} lines`)
  t.match(report, /^To look around in the console \(http:\/\/127\.0\.0\.1:\d+\/console\) and try curl, run it with --serve: it prints the address and a token\.$/m, 'the report points to the console')

  t.match(report, /^webhook data-tracker 5f1c0de0{16}1: HTTP 202 \{"delivery":1,"status":"queued"\}$/m, 'the webhook line')
  t.match(report, /^sweep data-tracker: found 8, queued 7, duplicates 1, outcomes \{.*"sent":6.*\}$/m, 'data-tracker sweep: the webhook record is a duplicate')
  t.match(report, /^sweep data-tracker: .*"skipped":1.*"dead":1/m)
  t.match(report, /^sweep signs-markings: found 4, queued 4, duplicates 0, outcomes \{"sent":3,"skipped":1\}$/m, 'signs-markings sweep')

  // ESB: one line per message, nine messages, the header line says so.
  const esbAt = lines.findIndex((l) => l.startsWith('ESB received'))
  t.match(lines[esbAt], /^ESB received 9 message\(s\)/)
  const afterHeader = lines.slice(esbAt + 2)
  const end = afterHeader.findIndex((l) => !l.startsWith('  '))
  const esbLines = afterHeader.slice(0, end === -1 ? afterHeader.length : end)
  t.equal(esbLines.length, 9, 'nine message lines')
  const codes = esbLines.map((l) => l.trim().split(/\s+/)[1]).sort()
  t.same(codes, ['ADJUTIMI', 'CLOIS001', 'CLOIS001', 'CONTACT', 'DISPTECH', 'MONISSRE', 'REPACOMP', 'TMCONINV', 'TRREPSGN'])
  t.match(report, /26-00418002 {2}ADJUTIMI .*"Caller \(Senora Nunez\) says the left arrow is <5 s; extended to 8 s"/, 'special characters as sent')
  t.notMatch(esbLines.join('\n'), /Post Tweet|Attach Image|Flux|26-00418200|26-00410000/, 'no skipped, dead, unswept or already-sent record reached the ESB')

  // Knack: every activity of the day with its status.
  const day = sandboxDay()
  const knackLine = (app: string, atd: number) => lines.find((l) => new RegExp(`^  ${app} +\\S+ +${atd} `).test(l)) ?? ''
  const expected: Record<string, Record<number, RegExp>> = {
    'data-tracker': {
      5001: /SENT$/, 5002: /SENT$/, 5003: /SENT$/, 5004: /SENT$/, 5005: /Post Tweet +DO_NOT_SEND$/, 5006: /SENT$/,
      5007: /READY_TO_SEND {2}\(delivery #\d+ dead\)$/, 5008: /SENT$/, 5009: /READY_TO_SEND {2}\(not swept/, 4990: /SENT$/
    },
    'signs-markings': { 801: /SENT$/, 802: /SENT$/, 803: /Attach Image +DO_NOT_SEND$/, 804: /SENT$/ }
  }
  for (const [app, activities] of Object.entries(day)) {
    t.equal(activities.length, Object.keys(expected[app] ?? {}).length, `${app}: every seeded activity is checked`)
    for (const a of activities) t.match(knackLine(app, a.atdActivityId), expected[app]?.[a.atdActivityId] ?? /never/, `${app} ${a.atdActivityId} ${a.activityName}`)
  }

  // What did not go, and why.
  const notGone = lines.slice(lines.indexOf('Deliveries that did not go:') + 1).filter((l) => l.startsWith('  #'))
  t.equal(notGone.length, 1, 'one delivery did not go')
  t.match(notGone[0], /data-tracker 5f1c0de0{16}7 \(dead\): .*"Recalibrate Flux Capacitor"/)
  t.match(report, /^Deliveries by status: sent 9, skipped 2, dead 1$/m)
})

t.test('the demo against today\'s gateway (--esb flaky): 404s and time-outs, and still everything sent', async (t) => {
  const lines: string[] = []
  const code = await runSandbox({ serve: false, esb: 'flaky', out: (line) => void lines.push(line) })
  const report = lines.join('\n')
  t.equal(code, 0, 'exit code 0')
  t.match(report, /^knack311 sandbox — .*ESB simulator https:\/\/127\.0\.0\.1:\d+\/ws\/rest\/v1\/knack\/submitKnack\/ \(mutual TLS; flaky like today's gateway: 50 % 404 No such path, 5 % time-outs\)$/m)
  const gateway = /^ESB gateway: (\d+) request\(s\) answered 404 No such path, (\d+) read and never answered/m.exec(report)
  t.ok(gateway, 'the report says what the gateway did')
  t.ok(Number(gateway?.[1]) > 0, `${gateway?.[1]} 404s along the way`)
  t.match(report, /^ESB received 9 message\(s\)/m, 'every message accepted, once')
  t.match(report, /^sweep signs-markings: found 4, queued 4, duplicates 0, outcomes \{"sent":3,"skipped":1\}$/m)
  t.match(report, /^Deliveries by status: sent 9, skipped 2, dead 1$/m, 'the same outcome as against a healthy ESB: only the unmapped activity is dead')
})

t.test('knack311 sandbox --esb with an unknown mode: a usage error', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'sandbox', '--esb', 'sometimes'], { cwd: ROOT, env: {}, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  t.equal(code, 2)
  t.match(stderr, /--esb must be one of ok, flaky/)
})

t.test('knack311 sandbox --serve with no environment: curl targets work, Ctrl-C stops it', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'sandbox', '--serve'], { cwd: ROOT, env: {}, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')))
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')))
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  t.teardown(() => {
    clearTimeout(killer)
    if (child.exitCode === null) child.kill('SIGKILL')
  })

  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (stdout.includes('Ctrl-C to stop')) done(resolve)
      else if (child.exitCode !== null) done(() => reject(new Error(`sandbox exited early (${child.exitCode}): ${stderr}${stdout}`)))
    }, 50)
    const giveUp = setTimeout(() => done(() => reject(new Error(`no serve help within 45 s: ${stderr}${stdout}`))), 45_000)
    function done(then: () => void) {
      clearInterval(check)
      clearTimeout(giveUp)
      then()
    }
  })
  // Wait for the rest of the help to be flushed (the last line names /docs).
  for (let i = 0; i < 100 && !stdout.includes('/docs'); i++) await new Promise((r) => setTimeout(r, 50))

  const base = /service (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1]
  const token = /Authorization: Bearer ([^']+)'/.exec(stdout)?.[1]
  t.ok(base, `service URL printed (${base})`)
  t.ok(token, 'admin token printed in the curl lines')
  t.match(stdout, /curl -s -X POST .*\/webhooks\/knack\/data-tracker -H 'X-Webhook-Token: \S+'/, 'a webhook curl line with its token header')

  const deliveries = await fetch(`${base}/deliveries`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(deliveries.status, 200)
  t.equal(((await deliveries.json()) as unknown[]).length, 12, 'the demo deliveries are there')
  t.equal((await fetch(`${base}/readyz`)).status, 200)
  t.equal((await fetch(`${base}/docs/`)).status, 200)

  // The console's address and a token to log in with, printed; and they work.
  const consoleLine = /^The console: open (http:\/\/127\.0\.0\.1:\d+\/console) in a browser and log in with the token (\S+)$/m.exec(stdout)
  t.ok(consoleLine, 'the console line')
  t.equal(consoleLine?.[1], `${base}/console`)
  t.equal(consoleLine?.[2], token, 'the admin token')
  const loginPage = await fetch(`${base}/console/login`)
  const csrfCookie = (loginPage.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await loginPage.text())?.[1] ?? ''
  const login = await fetch(`${base}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: csrfCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, token: consoleLine?.[2] ?? '' }).toString()
  })
  t.equal(login.status, 303, 'the printed token logs in')
  const session = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
  const overview = await fetch(`${base}/console`, { headers: { cookie: `${csrfCookie}; ${session}` }, redirect: 'manual' })
  t.equal(overview.status, 200)
  t.match(await overview.text(), /1 dead delivery needs a person/, "the overview shows the demo's dead delivery")

  child.kill('SIGINT')
  t.equal(await exited, 0, 'Ctrl-C: exit 0')
  t.equal(stderr, '', 'nothing on stderr')
})
