import { z } from 'zod';
import { bool, logLevel, port, positiveInt } from '@jmp/runtime';

export const apiConfigSpec = {
  port: ['JMP_API_PORT', port(8080)],
  host: ['JMP_API_HOST', z.string().default('127.0.0.1')],
  databaseUrl: ['DATABASE_URL', z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional()],
  redisUrl: ['REDIS_URL', z.string().regex(/^(?:rediss?|redis\+sentinel):\/\//, 'must be a redis://, rediss:// or redis+sentinel:// URL').optional()],
  secretKey: ['JMP_SECRET_KEY', z.string().min(32, 'must be at least 32 bytes (64 hex characters or base64)').optional()],
  dbPoolMax: ['JMP_DB_POOL_MAX', z.coerce.number().int().min(1).max(200).default(10)],
  uidBase: ['JMP_UID_BASE', z.coerce.number().int().min(1000).max(2_000_000_000).default(200000)],
  ticketTtlSeconds: ['JMP_TICKET_TTL_SECONDS', z.coerce.number().int().min(5).max(60).default(30)],
  webCredentialTtlSeconds: ['JMP_WEB_CREDENTIAL_TTL_SECONDS', z.coerce.number().int().min(1).max(60).default(30)],
  sessionTtlSeconds: ['JMP_SESSION_TTL_SECONDS', positiveInt(8 * 3600)],
  secureCookies: ['JMP_SECURE_COOKIES', bool(true)],
  lockoutThreshold: ['JMP_LOCKOUT_THRESHOLD', positiveInt(5)],
  lockoutSeconds: ['JMP_LOCKOUT_SECONDS', positiveInt(900)],
  // Failed password/TOTP attempts per minute from one client address, over all usernames (password spraying).
  loginRatePerMinute: ['JMP_LOGIN_RATE_PER_MINUTE', positiveInt(60)],
  // Added to the built-in list of system account names that can never be jmp usernames.
  reservedUsernames: ['JMP_RESERVED_USERNAMES', z.string().default('').transform((v) => v.split(',').map((n) => n.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be usernames separated by commas')))],
  noSnapshotPolicy: ['JMP_AGENT_NO_SNAPSHOT', z.enum(['deny', 'allow']).default('deny')],
  requestTtlSeconds: ['JMP_REQUEST_TTL_SECONDS', positiveInt(7 * 86400)],
  smtpUrl: ['JMP_SMTP_URL', z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional()],
  smtpFrom: ['JMP_SMTP_FROM', z.string().default('jmp <jmp@localhost>')],
  webhookUrl: ['JMP_WEBHOOK_URL', z.string().url({ message: 'must be a URL' }).optional()],
  logLevel: ['JMP_LOG_LEVEL', logLevel()],
} as const;

export type ApiConfig = {
  port: number; host: string; databaseUrl?: string | undefined; redisUrl?: string | undefined; secretKey?: string | undefined;
  dbPoolMax: number; uidBase: number; ticketTtlSeconds: number; webCredentialTtlSeconds: number; sessionTtlSeconds: number; secureCookies: boolean;
  lockoutThreshold: number; lockoutSeconds: number; loginRatePerMinute: number; reservedUsernames: string[]; noSnapshotPolicy: 'deny' | 'allow'; requestTtlSeconds: number; smtpUrl?: string | undefined; smtpFrom: string; webhookUrl?: string | undefined; logLevel: string;
};
