// Knack's error bodies: `{"errors":[{"field","type","message"}]}`, sometimes `{"errors":["text"]}`,
// sometimes a bare string or an HTML page from a proxy. Pull out the human messages only.

const MAX_MESSAGES = 20
const MAX_LENGTH = 500

export function knackMessages(body: unknown): string[] {
  if (body === null || typeof body !== 'object') return []
  const errors = (body as { errors?: unknown }).errors
  const list = Array.isArray(errors) ? errors : errors === undefined ? [] : [errors]
  const messages: string[] = []
  for (const item of list.slice(0, MAX_MESSAGES)) {
    const text =
      typeof item === 'string'
        ? item
        : item !== null && typeof item === 'object' && typeof (item as { message?: unknown }).message === 'string'
          ? (item as { message: string }).message
          : undefined
    if (text !== undefined && text.trim() !== '') messages.push(text.trim().slice(0, MAX_LENGTH))
  }
  return messages
}
