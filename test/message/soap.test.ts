import t from 'tap'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { ACC_NS, buildEnvelope, CSR_ELEMENTS, parseEnvelope, SOAPENV_NS } from '../../src/message/soap.js'
import type { EnvelopeInput } from '../../src/message/soap.js'

function input(csr: Partial<EnvelopeInput['csr']> = {}, emi: string | null = 'EMI-1'): EnvelopeInput {
  return {
    emi,
    timestamp: '2026-11-28T17:23:30-06:00',
    csr: {
      id: 'rec1',
      csr_activity_id: null,
      sr_number: '19-001',
      issue_status_code: 'in_progress',
      activity_type_code: 'DISPTECH',
      activity_details: 'details',
      outcome_code: 'COMPLET1',
      activity_date: '2019-09-11T16:14:00-05:00',
      ...csr
    }
  }
}

/** Element names in document order, with prefixes, via an order-preserving parse. */
function elementOrder(xml: string): string[] {
  const names: string[] = []
  const walk = (nodes: unknown): void => {
    if (!Array.isArray(nodes)) return
    for (const node of nodes as Array<Record<string, unknown>>) {
      for (const key of Object.keys(node)) {
        if (key === '#text' || key === ':@' || key === '?xml') continue
        names.push(key)
        walk(node[key])
      }
    }
  }
  walk(new XMLParser({ preserveOrder: true, ignoreAttributes: false }).parse(xml))
  return names
}

t.test('envelope: declaration, namespaces, empty header, constants and element order', async (t) => {
  const xml = buildEnvelope(input())
  t.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '))
  t.match(xml, `xmlns:soapenv="${SOAPENV_NS}"`)
  t.match(xml, `xmlns:acc="${ACC_NS}"`)
  t.match(xml, /<soapenv:Header><\/soapenv:Header><soapenv:Body><acc:submitKnack><header><emi>EMI-1<\/emi>/)
  t.same(elementOrder(xml), [
    'soapenv:Envelope',
    'soapenv:Header',
    'soapenv:Body',
    'acc:submitKnack',
    'header',
    'emi',
    'timestamp',
    'source',
    'target',
    'data_type',
    'event',
    'data',
    'csr',
    ...CSR_ELEMENTS
  ])
  const v = parseEnvelope(xml)
  t.same(v.header, { emi: 'EMI-1', timestamp: '2026-11-28T17:23:30-06:00', source: 'KNACK', target: 'CSR', data_type: 'CSR', event: 'UPDATE' })
  t.equal(v.csr.outcome_code, 'COMPLET1')
  t.equal(XMLValidator.validate(xml), true)
})

t.test('missing or null values become empty elements', async (t) => {
  const xml = buildEnvelope(input({ csr_activity_id: null, activity_details: undefined, activity_date: null }, null))
  t.match(xml, '<emi></emi>')
  t.match(xml, '<csr_activity_id></csr_activity_id>')
  t.match(xml, '<activity_details></activity_details>')
  t.match(xml, '<activity_date></activity_date>')
  const v = parseEnvelope(xml)
  t.equal(v.header.emi, '')
  t.equal(v.csr.csr_activity_id, '')
  t.equal(v.csr.activity_details, '')
})

t.test('a<b is escaped exactly once', async (t) => {
  const xml = buildEnvelope(input({ activity_details: 'a<b & c>d "q" \'s\'' }))
  t.match(xml, '<activity_details>a&lt;b &amp; c&gt;d &quot;q&quot; &apos;s&apos;</activity_details>')
  t.notMatch(xml, '&amp;lt;')
  t.equal(parseEnvelope(xml).csr.activity_details, 'a<b & c>d "q" \'s\'')
})

t.test('&amp; typed by a user stays literal data', async (t) => {
  const xml = buildEnvelope(input({ activity_details: 'a&amp;b' }))
  t.match(xml, '<activity_details>a&amp;amp;b</activity_details>')
  t.equal(parseEnvelope(xml).csr.activity_details, 'a&amp;b')
})

t.test('every value is escaped, not only activity_details', async (t) => {
  const xml = buildEnvelope(input({ sr_number: '<x/>', id: 'r&1', issue_status_code: ']]>' }, 'e<1>'))
  t.match(xml, '<sr_number>&lt;x/&gt;</sr_number>')
  t.match(xml, '<id>r&amp;1</id>')
  t.match(xml, '<emi>e&lt;1&gt;</emi>')
  t.match(xml, '<issue_status_code>]]&gt;</issue_status_code>')
  t.equal(XMLValidator.validate(xml), true)
})

t.test('body is ASCII: café, Ñ and emoji; XML-illegal characters removed', async (t) => {
  const xml = buildEnvelope(input({ activity_details: 'café Ñ 😀 bell\u0007 \uFFFF end', sr_number: 'Ø-1' }))
  t.match(xml, /^[\t\n\r\x20-\x7e]*$/)
  t.equal(parseEnvelope(xml).csr.activity_details, 'cafe N  bell  end')
  t.equal(parseEnvelope(xml).csr.sr_number, 'O-1')
  t.equal(XMLValidator.validate(xml), true)
})

t.test('values keep their white space and line breaks', async (t) => {
  const xml = buildEnvelope(input({ activity_details: '  line one\nline two\t ' }))
  t.equal(parseEnvelope(xml).csr.activity_details, '  line one\nline two\t ')
})

t.test('parseEnvelope keeps numbers as strings and reports malformed or incomplete envelopes', async (t) => {
  const xml = buildEnvelope(input({ id: '00123', sr_number: '1e5', activity_type_code: 'true' }))
  const v = parseEnvelope(xml)
  t.equal(v.csr.id, '00123')
  t.equal(v.csr.sr_number, '1e5')
  t.equal(v.csr.activity_type_code, 'true')
  t.throws(() => parseEnvelope('<a><b></a>'), /Malformed XML/)
  t.throws(() => parseEnvelope(xml.replace(/<sr_number>.*<\/sr_number>/, '')), /csr\/sr_number/)
  t.throws(() => parseEnvelope('<x/>'), /Envelope/)
})

t.test('parseEnvelope ignores prefixes and formatting white space between elements', async (t) => {
  const pretty = `<?xml version="1.0"?>
<s:Envelope xmlns:s="${SOAPENV_NS}" xmlns:a="${ACC_NS}">
  <s:Header/>
  <s:Body>
    <a:submitKnack>
      <header><emi>E</emi><timestamp>T</timestamp><source>KNACK</source><target>CSR</target><data_type>CSR</data_type><event>UPDATE</event></header>
      <data>
        <csr><id>1</id><csr_activity_id/><sr_number>S</sr_number><issue_status_code/><activity_type_code>X</activity_type_code><activity_details>a &amp;lt; b</activity_details><outcome_code>O</outcome_code><activity_date/></csr>
      </data>
    </a:submitKnack>
  </s:Body>
</s:Envelope>`
  const v = parseEnvelope(pretty)
  t.equal(v.header.emi, 'E')
  t.equal(v.csr.activity_details, 'a &lt; b', 'entities decoded once')
  t.equal(v.csr.csr_activity_id, '')
})
