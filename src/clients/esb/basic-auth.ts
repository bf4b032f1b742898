// The HTTP Basic header (RFC 7617) for ESB_AUTH=basic and mtls+basic. Built once at start-up and
// only ever handed to undici: it is never logged, stored or put into a reason.

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`
}
