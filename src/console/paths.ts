// Where the console is, as the browser sees it. Behind the City's reverse proxy the service may
// live under a path (PUBLIC_URL=https://apps.example.gov/knack311, the proxy stripping /knack311):
// the routes stay at /console/… and every link, form, redirect and cookie path gets the prefix.
export interface ConsolePaths {
  /** The console's own URL path, e.g. `/console` or `/knack311/console`. */
  root: string
  /** `to('/deliveries/3')` → `/knack311/console/deliveries/3`; `to('')` → the overview. */
  to(path: string): string
}

export function consolePaths(publicUrl: string | undefined): ConsolePaths {
  const prefix = publicUrl ? new URL(publicUrl).pathname.replace(/\/+$/, '') : ''
  const root = `${prefix}/console`
  return { root, to: (path) => `${root}${path}` }
}

/** Where a login may send the browser next: a console page of this service, nothing else. */
export function safeNext(next: string | undefined): string | undefined {
  if (next === undefined) return undefined
  return /^\/(?:deliveries|retry|replay|preview|actions)(?:\/[A-Za-z0-9_.-]+)*(?:\?[A-Za-z0-9_.~%&=+:-]*)?$/.test(next) ? next : undefined
}
