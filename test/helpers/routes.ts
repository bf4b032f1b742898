// The routes a built app serves, read from Fastify's printRoutes tree: `METHOD /path/{param}`.
// HEAD twins and the Swagger UI's pages are left out.

export const ignoredRoute = (method: string, path: string) => method === 'HEAD' || path === '/docs' || path.startsWith('/docs/')

export const specPath = (fastifyPath: string) => fastifyPath.replace(/:(\w+)/g, '{$1}')

export function printedRoutes(tree: string): Set<string> {
  const found = new Set<string>()
  const prefixes: string[] = []
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (.*?) \(([^)]*)\)$/.exec(line)
    if (!m) continue
    const depth = (m[1] ?? '').length / 4
    const path = (prefixes[depth - 1] ?? '') + (m[2] ?? '')
    prefixes[depth] = path
    prefixes.length = depth + 1
    for (const method of (m[3] ?? '').split(', ')) {
      if (method !== '-' && !ignoredRoute(method, path)) found.add(`${method} ${specPath(path)}`)
    }
  }
  return found
}
