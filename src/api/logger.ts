import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Structured JSON logs. Secrets never reach them: the Authorization header,
 * cookies and any field named token, secret or password are replaced, at any
 * depth pino's redaction reaches (two levels under a wildcard).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'token',
  'secret',
  'password',
  '*.token',
  '*.secret',
  '*.password',
  '*.*.token',
  'databaseUrl',
  '*.databaseUrl',
];

export function createLogger(options: { level?: string; stream?: DestinationStream } = {}): Logger {
  return pino({ level: options.level ?? 'info', redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { service: 'headroom' } }, options.stream);
}
