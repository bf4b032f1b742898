import { readFileSync } from 'node:fs'
const [file, ...names] = process.argv.slice(2)
const p = JSON.parse(readFileSync(file!, 'utf8'))
const byId = new Map<number, any>(p.nodes.map((n: any) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const incl = new Map<string, number>()
let total = 0
p.samples.forEach((id: number, i: number) => {
  const dt = p.timeDeltas[i] / 1000; total += dt
  const seen = new Set<string>()
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const f = byId.get(cur).callFrame
    for (const n of names) if (f.functionName === n && !seen.has(n)) { seen.add(n); incl.set(n, (incl.get(n) ?? 0) + dt) }
  }
})
console.log('total', Math.round(total))
for (const n of names) console.log(n, Math.round(incl.get(n) ?? 0), 'ms')
