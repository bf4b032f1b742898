// Text made safe for the ESB: ASCII only, readable, and legal in XML 1.0.
import anyAscii from 'any-ascii'

const LETTER_OR_NUMBER = /^[\p{L}\p{N}]$/u
const MARK = /^\p{M}$/u
const PUNCTUATION = /^\p{P}$/u
const UPPER = /^\p{Lu}$/u
const LOWER = /^\p{Ll}$/u
const WHITE_SPACE = /^\p{White_Space}$/u
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/
const ASCII_LETTERS = /^[A-Za-z]*$/
const ASCII_PUNCTUATION = /^[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]*$/
const LINE_BREAKS = new Set([0x85, 0x2028, 0x2029])

/** Code points XML 1.0 allows in character data (lone surrogates and U+FFFE/FFFF are not). */
export function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  )
}

/** A letter or digit in ASCII: NFKD without accents first (é → e), any-ascii otherwise (ß → ss). */
function letterToAscii(ch: string, next: string | undefined): string {
  const decomposed = ch.normalize('NFKD').replace(/\p{M}/gu, '')
  let out = PRINTABLE_ASCII.test(decomposed) ? decomposed : anyAscii(ch)
  if (!PRINTABLE_ASCII.test(out)) return ''
  // any-ascii title-cases capitals (Æ → Ae); inside or at the end of a capitalised word, keep capitals (Æ → AE).
  if (out.length > 1 && UPPER.test(ch) && !(next !== undefined && LOWER.test(next))) out = out.toUpperCase()
  return out
}

function charToAscii(ch: string, cp: number, next: string | undefined): string {
  if (cp < 0x80) return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp < 0x7f) ? ch : ''
  if (LETTER_OR_NUMBER.test(ch)) return letterToAscii(ch, next)
  if (MARK.test(ch)) {
    // Accents (U+0301…) have no ASCII form and go; vowel signs of other scripts (ि → i) stay.
    const out = anyAscii(ch)
    return ASCII_LETTERS.test(out) ? out : ''
  }
  if (WHITE_SPACE.test(ch)) return LINE_BREAKS.has(cp) ? '\n' : ' '
  if (PUNCTUATION.test(ch)) {
    // Quotes and dashes keep their ASCII look (’ → '); punctuation spelled with letters (§ → S) goes.
    const out = anyAscii(ch)
    return ASCII_PUNCTUATION.test(out) ? out : ''
  }
  // Symbols, emoji, format and private-use characters: no letter form, removed rather than spelled out.
  return ''
}

/**
 * Transliterate to printable ASCII plus \t \n \r. Letters and digits keep an ASCII form
 * (café → cafe, Ñ → N, ß → ss, Æ → AE); emoji and symbols are removed; characters XML 1.0 does
 * not allow (controls, lone surrogates, U+FFFE/FFFF) are removed; DEL and C1 controls too.
 */
export function toAsciiText(s: string): string {
  const chars: string[] = []
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0
    if (isXmlChar(cp)) chars.push(ch)
  }
  let out = ''
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string
    out += charToAscii(ch, ch.codePointAt(0) ?? 0, chars[i + 1])
  }
  return out
}

/** Trim and collapse runs of white space to one space: how activity names are compared. */
export function collapseName(s: string): string {
  return s.trim().replace(/\s+/gu, ' ')
}
