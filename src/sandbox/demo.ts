// `knack311 sandbox` / `npm run demo`: the whole service on this machine with no credentials.
// Seeds the Knack simulator with a day of activities for both apps, pushes one webhook and one
// sweep per app through the real service over loopback, and reports what each side now holds.
// `--esb flaky` puts today's gateway in front of the ESB simulator (reference/esb-today.md):
// half of all requests answered 404 No such path, some read and never answered.
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { sandboxDay } from './seed.js'
import { startStack, type Stack } from './stack.js'

/** The ESB simulator as it always was, or as today's Boomi gateway behaves. */
export type SandboxEsb = 'ok' | 'flaky'
export const SANDBOX_ESB_MODES: readonly SandboxEsb[] = ['ok', 'flaky']

/** Today's gateway, seeded so a run can be replayed: July 2026's share of 404s, and time-outs. */
const FLAKY_GATEWAY = { notFound: 0.5, timeout: 0.05, seed: 29228 }

export interface SandboxOptions {
  serve: boolean
  esb?: SandboxEsb
  /** Where the report goes (stdout by default). */
  out?: (line: string) => void
}

export async function runSandbox(opts: SandboxOptions): Promise<number> {
  const out = opts.out ?? ((line: string) => void process.stdout.write(`${line}\n`))
  const flaky = opts.esb === 'flaky'
  const stack = await startStack({
    env: {
      PORT: process.env.PORT ?? '0',
      HOST: '127.0.0.1',
      // A gateway that times out must not hold the demo for the production 30 s each time.
      ...(flaky ? { ESB_TIMEOUT: '2s', ESB_PROBE_EVERY: '2s' } : {})
    },
    ...(flaky ? { esb: { flaky: FLAKY_GATEWAY }, esbPath: 'gateway' as const } : {})
  })
  try {
    const day = sandboxDay()
    for (const [app, activities] of Object.entries(day)) stack.seed(app, activities)
    const app = stack.app
    if (!app) throw new Error('sandbox service was not built')
    await app.listen({ host: '127.0.0.1', port: Number(stack.env.PORT) })
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const esbUrl = flaky ? stack.esbSim.gatewayUrl : stack.esbSim.url
    out(`knack311 sandbox — service ${base}, Knack simulator ${stack.knackSim.url}, ESB simulator ${esbUrl} (mutual TLS${flaky ? `; flaky like today's gateway: ${FLAKY_GATEWAY.notFound * 100} % 404 No such path, ${FLAKY_GATEWAY.timeout * 100} % time-outs` : ''})`)

    // 1. A webhook, as a Knack Flow would send it: just the record id.
    const first = day['data-tracker']?.[0]
    const hook = await call(`${base}/webhooks/knack/data-tracker`, { 'x-webhook-token': stack.env.WEBHOOK_SECRET ?? '' }, { id: first?.id })
    out(`webhook data-tracker ${first?.id}: HTTP ${hook.status} ${JSON.stringify(hook.body)}`)

    // 2. A sweep of every app, waiting for delivery.
    const admin = { authorization: `Bearer ${stack.env.ADMIN_TOKEN ?? ''}` }
    for (const name of Object.keys(day)) {
      const sweep = await call(`${base}/apps/${name}/sweep?wait=true&timeout=30s`, admin)
      const b = sweep.body as Record<string, unknown>
      out(`sweep ${name}: found ${b.found}, queued ${b.queued}, duplicates ${b.duplicates}, outcomes ${JSON.stringify(b.outcomes)}`)
    }
    await report(stack, out)
    if (!opts.serve) out(`To look around in the console (${base}/console) and try curl, run it with --serve: it prints the address and a token.`)
    if (opts.serve) {
      serveHelp(stack, base, out)
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve)
        process.once('SIGTERM', resolve)
      })
    }
    return stack.esbSim.received.length > 0 ? 0 : 1
  } finally {
    await stack.close()
  }
}

async function call(url: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await request(url, {
    method: 'POST',
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return { status: res.statusCode, body: await res.body.json() }
}

async function report(stack: Stack, out: (line: string) => void) {
  out('')
  const { notFound, timeouts } = stack.esbSim.stats
  if (notFound + timeouts > 0) {
    out(`ESB gateway: ${notFound} request(s) answered 404 No such path, ${timeouts} read and never answered (time-outs); each retried, none counted against its record.`)
  }
  out(`ESB received ${stack.esbSim.received.length} message(s), in arrival order:`)
  out(`  ${'SR number'.padEnd(11)}  ${'code'.padEnd(8)}  ${'issue status'.padEnd(16)}  ${'activity date'.padEnd(25)}  details (as sent)`)
  for (const m of stack.esbSim.received) {
    const v = m.values
    out(`  ${v.sr_number}  ${v.activity_type_code?.padEnd(8)}  ${v.issue_status_code?.padEnd(16)}  ${v.activity_date}  "${(v.activity_details ?? '').replace(/\n/g, ' / ')}"`)
  }
  out('')
  out('Knack now holds (app, record id, atd_activity_id, activity, status):')
  const ledger = stack.deps?.ledger
  if (!ledger) return
  const deliveryOf = new Map((await ledger.list({ limit: 1000 })).map((d) => [`${d.app}/${d.recordId}`, d]))
  for (const name of ['data-tracker', 'signs-markings']) {
    const a = stack.appConfig(name)
    for (const r of stack.knackSim.records(a.credentials.appId, a.obj)) {
      const status = String(r[a.fields.esb_status])
      const d = deliveryOf.get(`${name}/${r.id}`)
      // Say why a record is still ready: its delivery did not go, or no sweep or webhook took it.
      const why = status !== a.statuses.ready ? '' : d ? `  (delivery #${d.id} ${d.status})` : '  (not swept: the ready filter skips records with no EMI id)'
      out(`  ${name.padEnd(14)} ${r.id}  ${String(r[a.fields.atd_activity_id]).padEnd(5)} ${String(r[a.fields.activity_name]).padEnd(28)} ${status}${why}`)
    }
  }
  const notSent = [...(await ledger.list({ status: 'dead', limit: 100 })), ...(await ledger.list({ status: 'failed', limit: 100 }))]
  out('')
  out(notSent.length === 0 ? 'Every delivery went.' : 'Deliveries that did not go:')
  for (const d of notSent) out(`  #${d.id} ${d.app} ${d.recordId} (${d.status}): ${d.lastError}`)
  const counts = Object.entries(await ledger.countByStatus()).filter(([, n]) => n > 0)
  out('')
  out(`Deliveries by status: ${counts.map(([status, n]) => `${status} ${n}`).join(', ')}`)
  const maybeTwice = (await ledger.list({ limit: 1000 })).filter((d) => d.possibleDuplicate)
  if (maybeTwice.length > 0) {
    out(`Possible duplicates (a time-out after sending, then accepted): ${maybeTwice.map((d) => `#${d.id}`).join(', ')}`)
  }
}

function serveHelp(stack: Stack, base: string, out: (line: string) => void) {
  const admin = `-H 'Authorization: Bearer ${stack.env.ADMIN_TOKEN}'`
  const rec = stack.knackSim.records(stack.appConfig('data-tracker').credentials.appId, stack.appConfig('data-tracker').obj)[0]
  out('')
  out(`The console: open ${base}/console in a browser and log in with the token ${stack.env.ADMIN_TOKEN}`)
  out('')
  out('The sandbox keeps running (Ctrl-C to stop). Try:')
  out(`  curl -s ${base}/deliveries ${admin}`)
  out(`  curl -s ${base}/deliveries/1 ${admin}`)
  out(`  curl -s ${base}/apps/data-tracker/records/${rec?.id}/preview ${admin}`)
  out(`  curl -s -X POST ${base}/apps/data-tracker/records/${rec?.id}/resend ${admin}`)
  out(`  curl -s -X POST '${base}/apps/data-tracker/sweep?wait=true' ${admin}`)
  out(`  curl -s -X POST ${base}/webhooks/knack/data-tracker -H 'X-Webhook-Token: ${stack.env.WEBHOOK_SECRET}' -H 'Content-Type: application/json' -d '{"id":"${rec?.id}"}'`)
  out(`  curl -s ${base}/readyz;  curl -s ${base}/metrics | grep knack311_;  open ${base}/docs`)
}
