import t from 'tap'
import { collapseName, toAsciiText } from '../../src/message/text.js'

t.test('letters are transliterated to ASCII: café, Ñ, ß, Æ, Ø', async (t) => {
  t.equal(toAsciiText('café'), 'cafe')
  t.equal(toAsciiText('Ñandú'), 'Nandu')
  t.equal(toAsciiText('Straße'), 'Strasse')
  t.equal(toAsciiText('Æ'), 'AE')
  t.equal(toAsciiText('ÆGIR'), 'AEGIR')
  t.equal(toAsciiText('Ærø'), 'Aero')
  t.equal(toAsciiText('Ø'), 'O')
  t.equal(toAsciiText('ﬁle ½ ²'), 'file 1/2 2')
  t.equal(toAsciiText('Nguyễn Thị'), 'Nguyen Thi')
  t.equal(toAsciiText('e\u0301'), 'e', 'decomposed accents go too')
})

t.test('emoji and symbols are removed, not spelled out', async (t) => {
  t.equal(toAsciiText('ok 😀 done'), 'ok  done')
  t.equal(toAsciiText('© 2019 ™ € °'), ' 2019   ')
  t.equal(toAsciiText('👍🏽👨‍👩‍👧'), '')
  t.notMatch(toAsciiText('😀'), /grinning/)
})

t.test('punctuation keeps its ASCII look; punctuation spelled with letters goes', async (t) => {
  t.equal(toAsciiText('don’t — “yes”…'), 'don\'t - "yes"...')
  t.equal(toAsciiText('§ 4 ¶'), ' 4 ')
})

t.test('characters XML 1.0 does not allow are removed; \\t \\n \\r kept', async (t) => {
  t.equal(toAsciiText('a\u0000b\u0001c\u0008d\u000be\u000cf\u001fg'), 'abcdefg')
  t.equal(toAsciiText('x\uFFFEy\uFFFFz'), 'xyz')
  t.equal(toAsciiText('lone \uD800 high \uDC00 low'), 'lone  high  low')
  t.equal(toAsciiText('del\u007f c1\u0090'), 'del c1')
  t.equal(toAsciiText('a\tb\nc\r\nd'), 'a\tb\nc\r\nd')
  t.equal(toAsciiText('zero\u200bwidth\ufeff'), 'zerowidth')
})

t.test('unusual white space becomes a plain space or a newline', async (t) => {
  t.equal(toAsciiText('a\u00a0b\u2003c'), 'a b c')
  t.equal(toAsciiText('a\u2028b'), 'a\nb')
})

t.test('output is always ASCII', async (t) => {
  t.match(toAsciiText('Ελληνικά 中文 русский हिन्दी العربية'), /^[\x20-\x7e]*$/)
  t.equal(toAsciiText('русский'), 'russkiy')
})

t.test('collapseName trims and collapses white space', async (t) => {
  t.equal(collapseName('  Dispatch   Technician \t'), 'Dispatch Technician')
  t.equal(collapseName('Close\u00a0Issue\n(Resolved)'), 'Close Issue (Resolved)')
  t.equal(collapseName(''), '')
})
