// Structured JSON logs (pino). Secrets are redacted wherever they appear in
// log objects; never log a ticket, password, token or TOTP code by value.
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

const REDACT = [
  'password',
  'ticket',
  'token',
  'totp',
  'secret',
  'authorization',
  'cookie',
  '*.password',
  '*.ticket',
  '*.token',
  '*.totp',
  '*.secret',
  '*.authorization',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

export function createLogger(
  service: string,
  level: LoggerOptions['level'] = process.env.JMP_LOG_LEVEL ?? 'info',
): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
