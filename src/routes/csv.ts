// Deliveries as CSV, streamed: RFC 4180 (CRLF line ends, fields quoted when they hold a comma,
// a quote or a line break), the same columns as the JSON answer, and every cell that starts
// with =, +, -, @, tab or CR prefixed with ' so a spreadsheet shows it instead of running it.
import { Readable, pipeline } from 'node:stream'
import { stringify } from 'csv-stringify'
import type { Delivery } from '../ledger/types.js'
import { deliveryJson } from './present.js'
import { deliverySchema } from './schemas.js'

/** The JSON answer's fields, in its order. */
export const CSV_COLUMNS = Object.keys(deliverySchema.properties)

async function* asRecords(rows: AsyncIterable<Delivery>) {
  for await (const d of rows) yield deliveryJson(d)
}

/** A readable CSV stream over `rows`, read as it is consumed; destroying it stops the reading. */
export function deliveriesCsv(rows: AsyncIterable<Delivery>): Readable {
  const out = stringify({
    header: true,
    columns: CSV_COLUMNS,
    record_delimiter: 'windows',
    escape_formulas: true,
    cast: { boolean: (v) => (v ? 'true' : 'false') }
  })
  // An error on either side destroys both: the generator's finally runs, no more pages are read.
  pipeline(Readable.from(asRecords(rows)), out, () => undefined)
  return out
}
