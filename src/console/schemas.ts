// Console routes declare their inputs like every route; their answers are HTML pages (errors too)
// and 303 redirects, listed per status code so openapi.yaml and the routes stay in step.
const html = { type: 'string', description: 'HTML page' } as const
const redirect = { type: 'null', description: 'See Other: where to go next' } as const

/** `answers(200, 303, 400)` → a response schema with those codes. */
export function answers(...codes: number[]): Record<number, typeof html | typeof redirect> {
  return Object.fromEntries(codes.map((c) => [c, c === 303 ? redirect : html]))
}

export const csrfField = { _csrf: { type: 'string', maxLength: 200 } } as const
