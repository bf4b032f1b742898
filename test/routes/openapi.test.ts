// openapi.yaml and the service agree, in both directions: every route (method and path) is in
// the spec and every spec path is a route, and per route the status codes its response schema
// declares are the ones the spec lists. The check itself is shown to fail when either side moves.
import { readFileSync } from 'node:fs'
import { compileErrors, validate } from '@readme/openapi-parser'
import Fastify, { type RouteOptions } from 'fastify'
import t from 'tap'
import { parse } from 'yaml'
import { consoleRoutes } from '../../src/console/plugin.js'
import { createReadiness } from '../../src/observability/readiness.js'
import type { RouteContext } from '../../src/routes/context.js'
import { alertRoutes } from '../../src/routes/alerts.js'
import { actionRoutes } from '../../src/routes/actions.js'
import { bulkRetryRoutes } from '../../src/routes/bulk-retry.js'
import { deliveryRoutes } from '../../src/routes/deliveries.js'
import { installErrorHandler } from '../../src/routes/error-handler.js'
import { healthRoutes } from '../../src/routes/health.js'
import { OPENAPI_PATH, openapiRoutes } from '../../src/routes/openapi.js'
import { recordRoutes } from '../../src/routes/records.js'
import { replayRoutes } from '../../src/routes/replay.js'
import { sweepRoutes } from '../../src/routes/sweeps.js'
import { webhookRoutes } from '../../src/routes/webhooks.js'
import { ignoredRoute, printedRoutes, specPath } from '../helpers/routes.js'
import { startStack } from '../helpers/stack.js'

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const

/** One route: `GET /deliveries/{id}` → the status codes it answers with. */
type RouteTable = Map<string, Set<string>>

interface SpecDoc {
  openapi: string
  paths: Record<string, Partial<Record<(typeof METHODS)[number], { responses?: Record<string, unknown> }>>>
}

function specTable(doc: SpecDoc): RouteTable {
  const table: RouteTable = new Map()
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method]
      if (op) table.set(`${method.toUpperCase()} ${path}`, new Set(Object.keys(op.responses ?? {}).filter((c) => c !== 'default')))
    }
  }
  return table
}

function routeTable(routes: RouteOptions[]): RouteTable {
  const table: RouteTable = new Map()
  for (const r of routes) {
    for (const method of [r.method].flat()) {
      if (ignoredRoute(method, r.url)) continue
      const response = (r.schema?.response ?? {}) as Record<string, unknown>
      table.set(`${method} ${specPath(r.url)}`, new Set(Object.keys(response).map(String)))
    }
  }
  return table
}

/** Every disagreement between the service's routes and the spec, as readable lines. */
export function compareRoutes(service: RouteTable, spec: RouteTable): string[] {
  const problems: string[] = []
  for (const [route, codes] of service) {
    const documented = spec.get(route)
    if (!documented) {
      problems.push(`${route}: served but not in openapi.yaml`)
      continue
    }
    const missing = [...codes].filter((c) => !documented.has(c))
    const extra = [...documented].filter((c) => !codes.has(c))
    if (missing.length > 0) problems.push(`${route}: answers ${missing.join(', ')} not in openapi.yaml`)
    if (extra.length > 0) problems.push(`${route}: openapi.yaml lists ${extra.join(', ')} the route's schema does not declare`)
  }
  for (const route of spec.keys()) if (!service.has(route)) problems.push(`${route}: in openapi.yaml but not served`)
  return problems.sort()
}

const text = readFileSync(OPENAPI_PATH, 'utf8')
const doc = parse(text) as SpecDoc

t.test('openapi.yaml is a valid OpenAPI 3.1 document', async (t) => {
  t.equal(doc.openapi, '3.1.0')
  const result = await validate(structuredClone(doc) as never)
  t.ok(result.valid, compileErrors(result))
  t.same(result.warnings, [], 'no warnings')
})

t.test('routes and spec agree, both ways, down to status codes', async (t) => {
  const stack = await startStack({ startWorker: false })
  t.teardown(() => stack.close())
  const real = stack.app!

  // The same route plugins as buildApp, in an app that records each route's options.
  const routes: RouteOptions[] = []
  const probe = Fastify()
  t.teardown(() => probe.close())
  probe.addHook('onRoute', (r) => void routes.push(r))
  installErrorHandler(probe)
  const ctx: RouteContext = {
    config: stack.config,
    ledger: stack.deps!.ledger,
    knack: stack.deps!.knack,
    intake: real.service.intake,
    sweeper: real.service.sweeper,
    metrics: real.service.metrics,
    events: real.service.events,
    alerts: real.service.alerts,
    clock: () => new Date(),
    ops: real.service.ops,
    wakeWorker: () => undefined,
    readiness: createReadiness({ config: stack.config, ledger: stack.deps!.ledger, clock: () => new Date(), esb: stack.deps!.esb, gate: real.service.gate })
  }
  for (const plugin of [healthRoutes, webhookRoutes, recordRoutes, sweepRoutes, deliveryRoutes, bulkRetryRoutes, replayRoutes, actionRoutes, alertRoutes]) {
    await probe.register(plugin, ctx)
  }
  await probe.register(consoleRoutes, { ...ctx, prefix: '/console' })
  await probe.register(openapiRoutes)
  await probe.ready()
  const service = routeTable(routes)

  // The probe must hold exactly the routes the real service serves, or the check below means nothing.
  t.same([...printedRoutes(real.printRoutes({ commonPrefix: false }))].sort(), [...service.keys()].sort(), 'the probe app has the real routes')
  t.ok(service.size >= 11, `${service.size} routes`)

  const baseline = compareRoutes(service, specTable(doc))
  t.same(baseline, [], 'no disagreement')
  /** What a change adds to the baseline: the demonstrations hold even while the baseline is off. */
  const added = (problems: string[]) => problems.filter((p) => !baseline.includes(p))

  await t.test('the check fails when the spec loses a path or a status code', async (t) => {
    const copy = structuredClone(doc)
    delete copy.paths['/deliveries/{id}/retry']
    delete copy.paths['/readyz']?.get?.responses?.['503']
    t.same(added(compareRoutes(service, specTable(copy))), [
      'GET /readyz: answers 503 not in openapi.yaml',
      'POST /deliveries/{id}/retry: served but not in openapi.yaml'
    ])
  })

  await t.test('the check fails when the service gains a route or a code, or loses one', async (t) => {
    const more = new Map(service)
    more.set('DELETE /deliveries/{id}', new Set(['204']))
    more.set('GET /healthz', new Set(['200', '503']))
    more.delete('GET /metrics')
    t.same(added(compareRoutes(more, specTable(doc))), [
      'DELETE /deliveries/{id}: served but not in openapi.yaml',
      'GET /healthz: answers 503 not in openapi.yaml',
      'GET /metrics: in openapi.yaml but not served'
    ])
  })

  await t.test('the service serves the spec and a docs page', async (t) => {
    const yaml = await real.inject({ method: 'GET', url: '/openapi.yaml' })
    t.equal(yaml.statusCode, 200)
    t.match(yaml.headers['content-type'], /^application\/yaml/)
    t.equal(yaml.body, text, 'the file as written')
    const docs = await real.inject({ method: 'GET', url: '/docs/' })
    t.equal(docs.statusCode, 200)
    t.match(docs.body, /swagger/i)
    const json = await real.inject({ method: 'GET', url: '/docs/json' })
    t.equal(json.statusCode, 200)
    t.same(Object.keys(json.json<SpecDoc>().paths).sort(), Object.keys(doc.paths).sort(), 'the docs page shows this document')
  })
})
