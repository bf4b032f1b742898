// Loopback stand-ins for Slack, a Teams workflow and a JSON webhook receiver. Each listens on
// 127.0.0.1 at a secret-looking path (as the real URLs are their own credential), checks every
// body against the shape the service documents — Slack's incoming webhook (`text` + Block Kit
// `blocks` and their limits), a Teams workflow's message with an Adaptive Card attachment,
// knack311's own JSON — and answers as the service does (Slack 200 "ok", Teams 202, 200).
// A body that breaks the shape gets a 400 like Slack's invalid_payload and is kept in `problems`.
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export type ReceiverKind = 'slack' | 'teams' | 'webhook'

export interface Received {
  body: Record<string, unknown>
  headers: IncomingMessage['headers']
}

export interface Receiver {
  readonly kind: ReceiverKind
  /** The full URL, secret path included: what ALERT_<KIND>_URL is set to. */
  readonly url: string
  /** Bodies accepted (2xx), in arrival order. */
  readonly received: Received[]
  /** Every POST that reached the handler, accepted or not. */
  readonly attempts: number
  /** Shape violations, one line each: a test asserts this is empty. */
  readonly problems: string[]
  /** Answer every POST with this status (and body) instead of accepting; null: accept again. */
  failWith(status: number | null, body?: string): void
  /** Read each POST but never answer it (a channel that hangs), until called with false. */
  hang(on: boolean): void
  /** Stop listening (connections refused) / listen again on the same port. */
  down(): Promise<void>
  up(): Promise<void>
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>
  /** Accepted bodies as text (for searching for names or secrets). */
  texts(): string[]
  close(): Promise<void>
}

const token = (n: number) => randomBytes(n).toString('hex')

function secretPath(kind: ReceiverKind): string {
  switch (kind) {
    case 'slack':
      return `/services/T0TEST${token(3)}/B0TEST${token(3)}/${token(12)}`
    case 'teams':
      return `/workflows/${token(16)}/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${token(20)}`
    case 'webhook':
      return `/alerts/${token(16)}`
  }
}

export async function startReceiver(kind: ReceiverKind): Promise<Receiver> {
  const path = secretPath(kind)
  const received: Received[] = []
  const problems: string[] = []
  let attempts = 0
  let failure: { status: number; body: string } | null = null
  let hanging = false
  const hung = new Set<ServerResponse>()
  let server: Server = createServer(handle)
  let port = 0

  function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== path) {
        res.writeHead(404).end('no_service')
        return
      }
      attempts++
      if (hanging) {
        hung.add(res)
        return
      }
      if (failure) {
        res.writeHead(failure.status, { 'content-type': 'text/plain' }).end(failure.body)
        return
      }
      let body: unknown
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        problems.push(`${kind}: body is not JSON`)
        res.writeHead(400).end('invalid_payload')
        return
      }
      const found = check(kind, body, req.headers)
      if (found.length > 0) {
        problems.push(...found)
        res.writeHead(400).end('invalid_payload')
        return
      }
      received.push({ body: body as Record<string, unknown>, headers: req.headers })
      if (kind === 'slack') res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
      else if (kind === 'teams') res.writeHead(202).end()
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
  }

  const listen = async () => {
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
  }
  const stop = async () => {
    if (!server.listening) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  await listen()

  return {
    kind,
    url: `http://127.0.0.1:${port}${path}`,
    received,
    get attempts() {
      return attempts
    },
    problems,
    failWith(status, body = 'unavailable') {
      failure = status === null ? null : { status, body }
    },
    hang(on) {
      hanging = on
      if (!on) {
        for (const res of hung) res.destroy()
        hung.clear()
      }
    },
    down: stop,
    async up() {
      server = createServer(handle)
      await listen()
    },
    async waitFor(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`${kind} receiver: ${received.length} of ${count} alerts after ${timeoutMs} ms (problems: ${problems.join('; ') || 'none'})`)
        await new Promise((r) => setTimeout(r, 20))
      }
      return received.slice(0, count)
    },
    texts: () => received.map((r) => JSON.stringify(r.body)),
    close: stop
  }
}

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const isText = (v: unknown, max = Infinity): v is string => typeof v === 'string' && v.length > 0 && v.length <= max

function check(kind: ReceiverKind, body: unknown, headers: IncomingMessage['headers']): string[] {
  if (!isObject(body)) return [`${kind}: body is not an object`]
  if (kind === 'slack') return checkSlack(body)
  if (kind === 'teams') return checkTeams(body)
  return checkWebhook(body, headers)
}

/** api.slack.com/reference/block-kit/blocks: the limits Slack enforces with invalid_blocks. */
function checkSlack(b: Json): string[] {
  const p: string[] = []
  if (!isText(b.text, 40_000)) p.push('slack: `text` missing or too long')
  if (!Array.isArray(b.blocks) || b.blocks.length === 0 || b.blocks.length > 50) return [...p, 'slack: `blocks` must be 1 to 50 blocks']
  const textObject = (t: unknown, max: number, where: string) => {
    if (!isObject(t) || (t.type !== 'mrkdwn' && t.type !== 'plain_text') || !isText(t.text, max)) p.push(`slack: ${where} is not a text object of at most ${max} characters`)
  }
  b.blocks.forEach((block: unknown, i) => {
    if (!isObject(block)) return p.push(`slack: block ${i} is not an object`)
    switch (block.type) {
      case 'header':
        if (!isObject(block.text) || block.text.type !== 'plain_text') p.push(`slack: header ${i} text must be plain_text`)
        textObject(block.text, 150, `header ${i}`)
        break
      case 'section':
        if (block.text === undefined && block.fields === undefined) p.push(`slack: section ${i} has neither text nor fields`)
        if (block.text !== undefined) textObject(block.text, 3000, `section ${i} text`)
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields) || block.fields.length > 10) p.push(`slack: section ${i} has more than 10 fields`)
          else block.fields.forEach((f: unknown, j) => textObject(f, 2000, `section ${i} field ${j}`))
        }
        break
      case 'context':
        if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 10) p.push(`slack: context ${i} needs 1 to 10 elements`)
        else block.elements.forEach((e: unknown, j) => textObject(e, 3000, `context ${i} element ${j}`))
        break
      case 'divider':
        break
      default:
        p.push(`slack: block ${i} has an unexpected type ${String(block.type)}`)
    }
    return undefined
  })
  return p
}

const CARD_ELEMENTS = new Set(['TextBlock', 'RichTextBlock', 'FactSet', 'Container', 'ColumnSet', 'Image'])

/** learn.microsoft.com: a workflow's "When a Teams webhook request is received" takes a message
 *  whose attachments hold Adaptive Cards; adaptivecards.io/explorer for the elements. */
function checkTeams(b: Json): string[] {
  const p: string[] = []
  if (b.type !== 'message') p.push('teams: type must be "message"')
  if (!Array.isArray(b.attachments) || b.attachments.length === 0) return [...p, 'teams: attachments must hold the card']
  for (const a of b.attachments as unknown[]) {
    if (!isObject(a)) return [...p, 'teams: attachment is not an object']
    if (a.contentType !== 'application/vnd.microsoft.card.adaptive') p.push('teams: contentType must be application/vnd.microsoft.card.adaptive')
    const card = a.content
    if (!isObject(card)) return [...p, 'teams: attachment has no content']
    if (card.type !== 'AdaptiveCard') p.push('teams: content.type must be AdaptiveCard')
    if (typeof card.$schema !== 'string' || !card.$schema.includes('adaptivecards.io')) p.push('teams: content.$schema must be the Adaptive Card schema')
    if (typeof card.version !== 'string' || !/^1\.[0-6]$/.test(card.version)) p.push('teams: version must be 1.0 to 1.6')
    if (!Array.isArray(card.body) || card.body.length === 0) p.push('teams: body must hold elements')
    for (const [i, el] of ((card.body as unknown[]) ?? []).entries()) {
      if (!isObject(el) || !CARD_ELEMENTS.has(String(el.type))) {
        p.push(`teams: body element ${i} has an unexpected type`)
        continue
      }
      if (el.type === 'TextBlock' && !isText(el.text)) p.push(`teams: TextBlock ${i} has no text`)
      if (el.type === 'RichTextBlock') {
        const inlines = el.inlines
        if (!Array.isArray(inlines) || inlines.length === 0) p.push(`teams: RichTextBlock ${i} has no inlines`)
        else for (const r of inlines as unknown[]) if (!isObject(r) || r.type !== 'TextRun' || !isText(r.text)) p.push(`teams: RichTextBlock ${i} holds a run that is not a TextRun with text`)
      }
      if (el.type === 'FactSet') {
        const facts = el.facts
        if (!Array.isArray(facts) || facts.length === 0) p.push(`teams: FactSet ${i} has no facts`)
        else for (const f of facts as unknown[]) if (!isObject(f) || typeof f.title !== 'string' || typeof f.value !== 'string') p.push(`teams: FactSet ${i} fact needs title and value`)
      }
    }
    for (const action of (card.actions as unknown[] | undefined) ?? []) {
      if (!isObject(action) || action.type !== 'Action.OpenUrl' || !isText(action.title) || !isText(action.url)) p.push('teams: an action is not an Action.OpenUrl with title and url')
    }
  }
  return p
}

/** README "Alerts": the JSON webhook's shape. */
function checkWebhook(b: Json, headers: IncomingMessage['headers']): string[] {
  const p: string[] = []
  if (b.source !== 'knack311') p.push('webhook: source must be knack311')
  if (b.schema_version !== 1) p.push('webhook: schema_version must be 1')
  for (const k of ['key', 'kind', 'title', 'summary', 'created_at']) if (!isText(b[k])) p.push(`webhook: ${k} missing`)
  if (!['critical', 'warning', 'info', 'resolved'].includes(String(b.severity))) p.push('webhook: severity is not one of critical, warning, info, resolved')
  for (const k of ['facts', 'items', 'links']) if (!Array.isArray(b[k])) p.push(`webhook: ${k} must be an array`)
  if (typeof b.more_items !== 'number') p.push('webhook: more_items must be a number')
  if (!isObject(b.data)) p.push('webhook: data must be an object')
  if (headers['idempotency-key'] !== b.key) p.push('webhook: the Idempotency-Key header must be the alert key')
  return p
}
