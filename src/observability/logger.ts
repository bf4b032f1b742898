// pino JSON logs; pretty only on a TTY. Secrets are redacted wherever they could appear.
import { pino, type Logger, type DestinationStream } from 'pino'

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-webhook-token"]',
  'req.headers["x-knack-rest-api-key"]',
  // The console's session and CSRF cookies.
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["x-knack-rest-api-key"]',
  '*.apiKey',
  '*.api_key',
  '*.key',
  '*.cert',
  '*.token',
  '*.adminToken',
  '*.webhookSecret',
  'credentials',
  '*.credentials',
  // ESB_PASSWORD (Basic) wherever a config or options object is logged.
  '*.password',
  'esb.password'
]

export function createLogger(opts: { level: string; destination?: DestinationStream; pretty?: boolean }): Logger {
  const pretty = opts.pretty ?? (opts.destination === undefined && process.stdout.isTTY === true)
  const base = { level: opts.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }
  if (opts.destination) return pino(base, opts.destination)
  if (pretty) return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true } } })
  return pino(base)
}
