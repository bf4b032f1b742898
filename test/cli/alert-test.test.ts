// `knack311 alert-test` as an operator runs it: a child process configured by the environment,
// one test alert to each configured channel (loopback receivers, a TLS SMTP server trusted
// through NODE_EXTRA_CA_CERTS), a line per channel, exit 0 only when every channel took it.
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { generateTestPki } from '../../src/sandbox/certs.js'
import { startReceiver } from '../helpers/alert-receivers.js'
import { startSmtpServer } from '../helpers/smtp.js'
import { startStack } from '../helpers/stack.js'

const PROJECT = new URL('../..', import.meta.url).pathname

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function cli(env: Record<string, string>): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env }
  delete childEnv.NODE_OPTIONS
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'alert-test'], { cwd: PROJECT, env: childEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr })
    })
  })
}

t.test('knack311 alert-test', async (t) => {
  const smtpPki = generateTestPki()
  const [slack, teams, webhook, smtp] = await Promise.all([startReceiver('slack'), startReceiver('teams'), startReceiver('webhook'), startSmtpServer(smtpPki, { implicitTls: true })])
  const stack = await startStack({ buildService: false })
  const caPath = join(stack.dir, 'smtp-ca.pem')
  writeFileSync(caPath, smtpPki.ca.cert)
  t.teardown(async () => {
    await stack.close()
    await Promise.all([slack.close(), teams.close(), webhook.close(), smtp.close()])
  })
  const env = {
    ...stack.env,
    ALERT_SLACK_URL: slack.url,
    ALERT_TEAMS_URL: teams.url,
    ALERT_WEBHOOK_URL: webhook.url,
    SMTP_URL: smtp.url,
    ALERT_EMAIL_FROM: 'knack311@example.org',
    ALERT_EMAIL_TO: 'a@example.org, b@example.org',
    NODE_EXTRA_CA_CERTS: caPath
  }
  const secrets = [slack.url, teams.url, webhook.url, smtp.password, stack.env.KNACK_API_KEY ?? '-', stack.env.ADMIN_TOKEN ?? '-']

  await t.test('every channel up: a line each, exit 0', async (t) => {
    const run = await cli(env)
    t.equal(run.code, 0, run.stdout + run.stderr)
    t.match(run.stdout, /^slack {4}ok$/m)
    t.match(run.stdout, /^teams {4}ok$/m)
    t.match(run.stdout, /^webhook {2}ok$/m)
    t.match(run.stdout, /^email {4}ok \(2 recipient\(s\)\)$/m)
    t.match(run.stdout, /^every channel took the test alert \(4\)$/m)
    for (const r of [slack, teams, webhook]) {
      t.same(r.problems, [])
      t.equal(r.received.length, 1, `${r.kind} got it`)
      t.match(JSON.stringify(r.received[0]!.body), 'Test alert from knack311')
    }
    t.equal((await smtp.waitFor(1))[0]!.parsed.subject, '[knack311] Info: Test alert from knack311')
    for (const s of secrets) t.notOk(run.stdout.includes(s) || run.stderr.includes(s), 'no secret printed')
  })

  await t.test('a channel refusing and one down: each named with why, exit 1', async (t) => {
    teams.failWith(404, 'workflow not found')
    await webhook.down()
    const run = await cli(env)
    t.equal(run.code, 1)
    t.match(run.stdout, /^slack {4}ok$/m)
    t.match(run.stdout, /^teams {4}FAILED Teams answered HTTP 404 workflow not found$/m)
    t.match(run.stdout, /^webhook {2}FAILED connection refused \(ECONNREFUSED\)$/m)
    t.match(run.stdout, /^2 of 4 channel\(s\) failed$/m)
    for (const s of secrets) t.notOk(run.stdout.includes(s) || run.stderr.includes(s), 'no secret printed')
  })

  await t.test('no channel configured: says so, exit 1', async (t) => {
    const run = await cli(stack.env)
    t.equal(run.code, 1)
    t.match(run.stdout, /no alert channel is configured/)
  })
})
