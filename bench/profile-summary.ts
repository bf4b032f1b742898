// Reads a V8 .cpuprofile (node --cpu-prof) and lists where the time went: self time per
// function, heaviest first. With `window`, only the stretch between the first and the last
// sample whose stack passes through a matching `function@url` counts (e.g. the load phase, without
// start-up), and the idle share inside it says whether the process was CPU-bound.
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface HotSpot {
  name: string
  where: string
  selfMs: number
  /** Percent of the window's time. */
  share: number
}

export interface ProfileSummary {
  windowMs: number
  idleShare: number
  spots: HotSpot[]
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) return url.slice(nm)
  const src = url.lastIndexOf('/src/')
  if (src >= 0) return url.slice(src + 1)
  return url.replace(/^.*\//, '')
}

export function summarizeProfile(path: string, opts: { top?: number; window?: RegExp } = {}): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const matches = new Map<number, boolean>()
  const inWindow = (id: number): boolean => {
    const known = matches.get(id)
    if (known !== undefined) return known
    const node = byId.get(id)
    const p = parent.get(id)
    const hit = (node !== undefined && opts.window !== undefined && opts.window.test(`${node.callFrame.functionName}@${node.callFrame.url}`)) || (p !== undefined && inWindow(p))
    matches.set(id, hit)
    return hit
  }
  let first = 0
  let last = profile.samples.length - 1
  if (opts.window) {
    first = profile.samples.findIndex((id) => inWindow(id))
    last = profile.samples.length - 1 - [...profile.samples].reverse().findIndex((id) => inWindow(id))
    if (first < 0) return { windowMs: 0, idleShare: 0, spots: [] }
  }
  const self = new Map<string, number>()
  let total = 0
  let idle = 0
  for (let i = first; i <= last; i++) {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000
    total += dt
    const f = byId.get(profile.samples[i] as number)?.callFrame
    if (!f) continue
    if (f.functionName === '(idle)') idle += dt
    const key = `${f.functionName || '(anonymous)'}\t${shortUrl(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`
    self.set(key, (self.get(key) ?? 0) + dt)
  }
  const pct = (ms: number) => Math.round((ms / Math.max(total, 1e-9)) * 1000) / 10
  const spots = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, opts.top ?? 12)
    .map(([key, ms]) => {
      const [name, where] = key.split('\t') as [string, string]
      return { name, where, selfMs: Math.round(ms), share: pct(ms) }
    })
  return { windowMs: Math.round(total), idleShare: pct(idle), spots }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const window = process.env.WINDOW ? new RegExp(process.env.WINDOW) : undefined
  for (const file of process.argv.slice(2)) {
    const { windowMs, idleShare, spots } = summarizeProfile(file, { window, top: 25 })
    console.log(`${file}: ${windowMs} ms, idle ${idleShare}%`)
    for (const s of spots) console.log(`${String(s.share).padStart(5)}%  ${String(s.selfMs).padStart(6)} ms  ${s.name}  ${s.where}`)
  }
}
