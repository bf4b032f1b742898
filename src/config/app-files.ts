// One JSON file per Knack app (config/apps/<name>.json), checked strictly: a typo in a key or a
// field id would otherwise send wrong data to the City, so every problem stops start-up with
// one line naming the file and the key.
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { ConfigInvalid } from '../errors.js'
import { FIELD_VARIABLES } from './types.js'
import type { AppConfig, FieldVariable, KnackCredentials } from './types.js'

/** How activity names are compared: trimmed, runs of white space made one space. */
export function normalizeActivityName(name: string): string {
  return name.trim().replace(/\s+/g, ' ')
}

const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

const knackId = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}_\\d+$`), { error: (i) => `${JSON.stringify(i.input)} is not a ${prefix}_<n> id` })

const code = z.string().regex(/^\S+$/, { error: (i) => `${JSON.stringify(i.input)} is not a code (text without spaces)` })

const fieldShape = {} as Record<FieldVariable, z.ZodType<string>>
for (const variable of FIELD_VARIABLES) {
  fieldShape[variable] = variable === 'id' ? z.literal('id', { error: 'must be "id"' }) : knackId('field')
}

const fieldsSchema = z
  .strictObject(fieldShape)
  .superRefine((fields, ctx) => {
    // Report each shared id once, on the first variable (in FIELD_VARIABLES order), naming the next.
    const seen = new Map<string, FieldVariable>()
    for (const variable of [...FIELD_VARIABLES].reverse()) {
      const id = fields[variable]
      const other = seen.get(id)
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: [variable], message: `field id "${id}" is also used by ${other}` })
      seen.set(id, variable)
    }
  })

const activityCodesSchema = z
  .record(z.string(), z.union([code, z.null()], { error: 'must be a CSR code or null (do not send)' }))
  .superRefine((codes, ctx) => {
    if (Object.keys(codes).length === 0) ctx.addIssue({ code: 'custom', message: 'lists no activity' })
    const byName = new Map<string, { key: string; code: string | null }>()
    for (const [key, value] of Object.entries(codes)) {
      const name = normalizeActivityName(key)
      if (name === '') ctx.addIssue({ code: 'custom', path: [key], message: 'activity name is empty' })
      const earlier = byName.get(name)
      if (earlier !== undefined && earlier.code !== value) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `is the same activity as ${JSON.stringify(earlier.key)} with another code (${JSON.stringify(value)} vs ${JSON.stringify(earlier.code)})`
        })
      }
      byName.set(name, { key, code: value })
    }
  })
  .transform((codes) => Object.fromEntries(Object.entries(codes).map(([key, value]) => [normalizeActivityName(key), value])))

const status = z.string().min(1, { error: 'must not be empty' })

/** The shape of one app file; `name` and resolved credentials are added by parseAppFile. */
export const appFileSchema = z.strictObject({
  obj: knackId('object'),
  scene: knackId('scene'),
  view: knackId('view'),
  timezone: z.string().refine(isTimeZone, { error: (i) => `${JSON.stringify(i.input)} is not an IANA time zone (e.g. America/Chicago)` }),
  fields: fieldsSchema,
  activity_codes: activityCodesSchema,
  status_rewrites: z.record(z.string().min(1), status).default({}),
  statuses: z
    .strictObject({
      ready: status.default('READY_TO_SEND'),
      sent: status.default('SENT'),
      skipped: status.default('DO_NOT_SEND'),
      failed: status.optional()
    })
    .default({ ready: 'READY_TO_SEND', sent: 'SENT', skipped: 'DO_NOT_SEND' }),
  outcome_code: code.default('COMPLET1'),
  // Since May 2024 some activities close with their own outcome (reference/apps.md); names are
  // compared like activity_codes'.
  outcome_codes: z
    .record(z.string(), code)
    .default({})
    .superRefine((codes, ctx) => {
      const seen = new Map<string, string>()
      for (const [key, value] of Object.entries(codes)) {
        const name = normalizeActivityName(key)
        if (name === '') ctx.addIssue({ code: 'custom', path: [key], message: 'activity name is empty' })
        const earlier = seen.get(name)
        if (earlier !== undefined && earlier !== value) {
          ctx.addIssue({ code: 'custom', path: [key], message: `is the same activity as another key with another code (${JSON.stringify(value)} vs ${JSON.stringify(earlier)})` })
        }
        seen.set(name, value)
      }
    })
    .transform((codes) => Object.fromEntries(Object.entries(codes).map(([key, value]) => [normalizeActivityName(key), value]))),
  credentials: z
    .strictObject({
      app_id_env: z.string().regex(ENV_NAME, { error: 'must name an environment variable' }),
      api_key_env: z.string().regex(ENV_NAME, { error: 'must name an environment variable' })
    })
    .optional()
})
export type AppFile = z.infer<typeof appFileSchema>

export interface AppFileOptions {
  /** Label used in messages; default `<name>.json`. */
  source?: string | undefined
  /** Missing Knack credentials are an error (default); false leaves them as empty strings. */
  requireCredentials?: boolean | undefined
}

/** Check one parsed app file and resolve its credentials from env. Throws ConfigInvalid. */
export function parseAppFile(name: string, json: unknown, env: Record<string, string | undefined>, opts: AppFileOptions = {}): AppConfig {
  const source = opts.source ?? `${name}.json`
  if (!APP_NAME.test(name)) throw new ConfigInvalid(`${source}: the app name "${name}" may hold only letters, digits, - and _`)
  const parsed = appFileSchema.safeParse(json, { reportInput: true })
  if (!parsed.success) throw new ConfigInvalid(`${source}: ${parsed.error.issues.map(describeIssue).join('; ')}`)
  const file = parsed.data
  return {
    name,
    obj: file.obj,
    scene: file.scene,
    view: file.view,
    timezone: file.timezone,
    fields: file.fields as Record<FieldVariable, string>,
    activity_codes: file.activity_codes,
    status_rewrites: file.status_rewrites,
    statuses: file.statuses,
    outcome_code: file.outcome_code,
    outcome_codes: file.outcome_codes,
    credentials: resolveCredentials(file, env, source, opts.requireCredentials ?? true)
  }
}

/** Every `*.json` in dir, by app name. Throws ConfigInvalid naming the file and key. */
export function loadAppFiles(dir: string, env: Record<string, string | undefined>, opts: Omit<AppFileOptions, 'source'> & { cwd?: string } = {}): Map<string, AppConfig> {
  const absolute = resolve(opts.cwd ?? process.cwd(), dir)
  let names: string[]
  try {
    names = readdirSync(absolute).filter((f) => f.endsWith('.json')).sort()
  } catch (err) {
    throw new ConfigInvalid(`APPS_DIR: cannot read ${dir} (${errorCode(err)})`)
  }
  if (names.length === 0) throw new ConfigInvalid(`APPS_DIR: ${dir} holds no *.json app file`)
  const apps = new Map<string, AppConfig>()
  for (const fileName of names) {
    const source = join(dir, fileName)
    let text: string
    try {
      text = readFileSync(join(absolute, fileName), 'utf8')
    } catch (err) {
      throw new ConfigInvalid(`${source}: cannot read (${errorCode(err)})`)
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (err) {
      throw new ConfigInvalid(`${source}: not valid JSON (${oneLine((err as Error).message)})`)
    }
    const name = fileName.slice(0, -'.json'.length)
    apps.set(name, parseAppFile(name, json, env, { ...opts, source }))
  }
  return apps
}

function resolveCredentials(file: AppFile, env: Record<string, string | undefined>, source: string, required: boolean): KnackCredentials {
  const named = file.credentials !== undefined
  const idVar = file.credentials?.app_id_env ?? 'KNACK_APP_ID'
  const keyVar = file.credentials?.api_key_env ?? 'KNACK_API_KEY'
  const appId = env[idVar]?.trim() ?? ''
  const apiKey = env[keyVar]?.trim() ?? ''
  if (required) {
    const missing = [idVar, keyVar].filter((v) => (v === idVar ? appId : apiKey) === '')
    if (missing.length > 0) {
      const where = named ? `named by ${source} credentials` : `the Knack credentials of ${source}`
      throw new ConfigInvalid(`${missing.join(', ')}: required but not set (${where})`)
    }
  }
  return { appId, apiKey }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

type Issue = z.core.$ZodIssue

/** `fields.emi_id: field id "field_1232" is also used by sr_number` */
function describeIssue(issue: Issue): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown key`).join('; ')
  }
  const where = issue.path.length === 0 ? '' : `${formatPath(issue.path)}: `
  // A missing key fails its own check with no input; say so rather than quote that check.
  if (issue.code !== 'custom' && issue.input === undefined) return `${where}is required`
  if (issue.code === 'invalid_type') return `${where}must be ${article(issue.expected)}, not ${describeValue(issue.input)}`
  return `${where}${oneLine(issue.message)}`
}

function formatPath(path: PropertyKey[]): string {
  return path
    .map((part, i) => {
      const text = String(part)
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) return i === 0 ? text : `.${text}`
      return `[${JSON.stringify(text)}]`
    })
    .join('')
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? oneLine((err as Error).message)
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}
