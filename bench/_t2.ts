import { startStack } from '../src/sandbox/stack.js'
let t = performance.now()
const s = await startStack({ buildService: false })
console.log('stack(no service)', performance.now() - t); t = performance.now()
await s.close()
const s2 = await startStack({})
console.log('stack(service)', performance.now() - t)
await s2.close()
