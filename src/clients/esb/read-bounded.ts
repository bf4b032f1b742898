// Reads at most `limit` bytes of a response body as UTF-8, then drops the rest, so a huge or
// endless answer cannot exhaust memory.
import type { Readable } from 'node:stream'

export async function readBounded(body: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string)
    const room = limit - size
    chunks.push(buf.length > room ? buf.subarray(0, room) : buf)
    size += Math.min(buf.length, room)
    if (size >= limit) {
      body.destroy()
      break
    }
  }
  return Buffer.concat(chunks).toString('utf8')
}
