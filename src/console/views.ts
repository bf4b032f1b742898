// Server-rendered pages: Eta templates through @fastify/view. Eta escapes every `<%= %>` value;
// the only raw output is the layout's page body, itself rendered (and escaped) by Eta.
import { fileURLToPath } from 'node:url'
import view from '@fastify/view'
import { Eta } from 'eta'
import type { FastifyInstance } from 'fastify'

/** Beside this file in src/ and, copied by `npm run build`, in dist/. */
export const TEMPLATES_DIR = fileURLToPath(new URL('./templates/', import.meta.url))
export const STYLESHEET_PATH = fileURLToPath(new URL('./console.css', import.meta.url))

export async function registerViews(app: FastifyInstance): Promise<void> {
  const eta = new Eta({ views: TEMPLATES_DIR, cache: true, autoEscape: true, autoTrim: [false, 'nl'] })
  await app.register(view, { engine: { eta }, templates: TEMPLATES_DIR, production: true })
}
