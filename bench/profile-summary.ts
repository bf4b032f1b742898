// Reads a V8 .cpuprofile (node --cpu-prof) and lists where the time went: self time per
// function, heaviest first, as a share of the whole profile.
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
  share: number
}

export function hotSpots(path: string, top = 15): { totalMs: number; spots: HotSpot[] } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000
    total += dt
    const node = byId.get(id)
    if (!node) return
    const f = node.callFrame
    const file = f.url.replace(/^.*\/(node_modules\/)?/, (m) => (m.includes('node_modules') ? 'node_modules/' : ''))
    const key = `${f.functionName || '(anonymous)'}\t${file}:${f.lineNumber + 1}`
    self.set(key, (self.get(key) ?? 0) + dt)
  })
  const spots = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, ms]) => {
      const [name, where] = key.split('\t') as [string, string]
      return { name, where, selfMs: Math.round(ms), share: Math.round((ms / total) * 1000) / 10 }
    })
  return { totalMs: Math.round(total), spots }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const file of process.argv.slice(2)) {
    const { totalMs, spots } = hotSpots(file)
    console.log(`${file}: ${totalMs} ms`)
    for (const s of spots) console.log(`${String(s.share).padStart(5)}%  ${String(s.selfMs).padStart(6)} ms  ${s.name}  ${s.where}`)
  }
}
