// One way to answer with a page: the template, the route's view model, and the frame every page
// shares (who is logged in, the CSRF token for its forms, where the console lives, a notice).
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config/types.js'
import type { ConsolePaths } from './paths.js'
import { cookieFlags, csrfUserInfo } from './security.js'

export type NavKey = 'overview' | 'deliveries' | 'retry' | 'replay' | 'preview' | 'actions' | 'none'

export interface Frame {
  title: string
  nav: NavKey
  /** A short message about what was just done (from a fixed list, see NOTICES). */
  notice?: string | null
}

/** What a redirect after an action may ask the next page to say. Codes only: no text from the URL
 *  is ever shown, so a crafted link cannot put words on the page. */
export const NOTICES = {
  retried: 'Queued again. The page shows its status now; reload for what happened next.',
  resent: 'Read from Knack and queued. The page shows its status now; reload for what happened next.',
  swept: 'Sweep finished: its result is on the app card.',
  logged_out: 'You are logged out.',
  expired: 'Your session ended. Log in again.'
} as const
export type NoticeCode = keyof typeof NOTICES

export function noticeFor(code: string | undefined): string | null {
  return code !== undefined && Object.hasOwn(NOTICES, code) ? NOTICES[code as NoticeCode] : null
}

export type Render = <Page extends Frame>(req: FastifyRequest, reply: FastifyReply, template: string, page: Page, status?: number) => Promise<FastifyReply>

const MENU: Array<{ key: NavKey; label: string; path: string }> = [
  { key: 'overview', label: 'Overview', path: '' },
  { key: 'deliveries', label: 'Deliveries', path: '/deliveries' },
  { key: 'retry', label: 'Retry in bulk', path: '/retry' },
  { key: 'replay', label: 'Replay', path: '/replay' },
  { key: 'preview', label: 'Preview', path: '/preview' },
  { key: 'actions', label: 'Actions', path: '/actions' }
]

export function createRender(config: Config, paths: ConsolePaths, zone: string): Render {
  const menu = MENU.map((m) => ({ key: m.key, label: m.label, href: paths.to(m.path) }))
  return async (req, reply, template, page, status = 200) => {
    const session = req.consoleSession
    const csrf = reply.generateCsrf({ ...cookieFlags(config, req, paths.root), userInfo: csrfUserInfo(req) })
    const data = {
      notice: null,
      ...page,
      base: paths.root,
      menu,
      zone,
      operator: session?.operator ?? null,
      csrf
    }
    const html = await reply.viewAsync(template, data)
    return reply.code(status).type('text/html; charset=utf-8').send(html)
  }
}
