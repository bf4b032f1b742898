// Knack's formatted values are HTML; turn one into plain text when no `_raw` value exists.

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' }

function decodeEntity(whole: string, body: string): string {
  if (body.startsWith('#')) {
    const hex = body[1] === 'x' || body[1] === 'X'
    const cp = Number.parseInt(body.slice(hex ? 2 : 1), hex ? 16 : 10)
    return Number.isInteger(cp) && cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : whole
  }
  return Object.hasOwn(NAMED, body) ? (NAMED[body] as string) : whole
}

/** `<br />` → newline, other tags removed, entities decoded exactly once (`&amp;lt;` → `&lt;`). */
export function htmlToText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<\/?[A-Za-z][^<>]*>/g, '')
    .replace(/&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]+);/g, decodeEntity)
}
