// jmp-api's variables: the spec is the configuration's type, its --help and the README table.
import { z } from 'zod';
import { bool, logLevelEntry, port, positiveInt, type ConfigOf } from '@jmp/runtime';
import { drainConfigSpec } from '@jmp/runtime/drain';
import { recordingConfigSpec } from '@jmp/recording';

/** Requests take milliseconds; the bound only covers a slow database. */
export const API_DRAIN_SECONDS = 15;

const reservedUsernames = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((n) => n.trim().toLowerCase())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be usernames separated by commas')));

export const apiConfigSpec = {
  port: { env: 'JMP_API_PORT', schema: port(8080), help: 'listen port' },
  host: { env: 'JMP_API_HOST', schema: z.string().default('127.0.0.1'), help: 'listen address' },
  databaseUrl: {
    env: 'DATABASE_URL',
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    help: '`postgres://…`',
    unset: 'required; `dev`: embedded',
  },
  redisUrl: {
    env: 'REDIS_URL',
    schema: z
      .string()
      .regex(/^(?:rediss?|redis\+sentinel):\/\//, 'must be a redis://, rediss:// or redis+sentinel:// URL')
      .optional(),
    help:
      '`redis://…`, or `redis+sentinel://h1:26379,h2:26379/<name>` for Redis Sentinel (single-use marks then wait ' +
      'for a replica; see `docs/scale.md`)',
    unset: 'unset: in-process store, one instance only',
  },
  secretKey: {
    env: 'JMP_SECRET_KEY',
    schema: z.string().min(32, 'must be at least 32 bytes (64 hex characters or base64)').optional(),
    help:
      'master secret, ≥ 32 bytes as hex or base64; keys for sessions, service tokens and encryption at rest are ' +
      'derived from it',
    unset: 'required; `dev`: generated',
  },
  dbPoolMax: {
    env: 'JMP_DB_POOL_MAX',
    schema: z.coerce.number().int().min(1).max(200).default(10),
    help: 'Postgres connections per process (≤ 200)',
  },
  uidBase: {
    env: 'JMP_UID_BASE',
    schema: z.coerce.number().int().min(1000).max(2_000_000_000).default(200000),
    help: 'first uid given to users (only while no user exists)',
  },
  ticketTtlSeconds: {
    env: 'JMP_TICKET_TTL_SECONDS',
    schema: z.coerce.number().int().min(5).max(60).default(30),
    help: 'login ticket lifetime in seconds (5 … 60)',
  },
  desktopTokenTtlSeconds: {
    env: 'JMP_DESKTOP_TOKEN_TTL_SECONDS',
    schema: z.coerce.number().int().min(5).max(60).default(30),
    help: 'lifetime in seconds of the one-time token a browser opens a desktop with (5 … 60)',
  },
  webCredentialTtlSeconds: {
    env: 'JMP_WEB_CREDENTIAL_TTL_SECONDS',
    schema: z.coerce.number().int().min(1).max(60).default(30),
    help: 'lifetime in seconds of the one-time credential a web terminal logs in to jmp-ssh with (≤ 60)',
  },
  sessionTtlSeconds: {
    env: 'JMP_SESSION_TTL_SECONDS',
    schema: positiveInt(8 * 3600),
    help: 'web session lifetime in seconds',
  },
  secureCookies: {
    env: 'JMP_SECURE_COOKIES',
    schema: bool(true),
    help: '`Secure` cookies; `false` only for plain-HTTP development',
  },
  lockoutThreshold: { env: 'JMP_LOCKOUT_THRESHOLD', schema: positiveInt(5), help: 'failed logins before a lockout' },
  lockoutSeconds: { env: 'JMP_LOCKOUT_SECONDS', schema: positiveInt(900), help: 'length of a lockout in seconds' },
  loginRatePerMinute: {
    env: 'JMP_LOGIN_RATE_PER_MINUTE',
    schema: positiveInt(60),
    help: 'failed password/TOTP attempts a minute from one client address, over all usernames (password spraying)',
  },
  reservedUsernames: {
    env: 'JMP_RESERVED_USERNAMES',
    schema: reservedUsernames,
    help: 'comma-separated names that may not be jmp usernames, on top of the built-in system account names',
  },
  watchNotice: {
    env: 'JMP_WATCH_NOTICE',
    schema: bool(true),
    help: 'tell a person in one line when an administrator or auditor starts watching her live session',
  },
  noSnapshotPolicy: {
    env: 'JMP_AGENT_NO_SNAPSHOT',
    schema: z.enum(['deny', 'allow']).default('deny'),
    help: 'what agents do with no snapshot: `deny` or `allow`',
  },
  requestTtlSeconds: {
    env: 'JMP_REQUEST_TTL_SECONDS',
    schema: positiveInt(7 * 86400),
    help: 'how long an access request waits for approval (seconds)',
  },
  smtpUrl: {
    env: 'JMP_SMTP_URL',
    schema: z
      .string()
      .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
      .optional(),
    help: 'mail server for flagged commands (`smtp://host:25` or `smtps://…`)',
    unset: 'unset: no mail',
  },
  smtpFrom: { env: 'JMP_SMTP_FROM', schema: z.string().default('jmp <jmp@localhost>'), help: 'sender of those mails' },
  webhookUrl: {
    env: 'JMP_WEBHOOK_URL',
    schema: z.string().url({ message: 'must be a URL' }).optional(),
    help: 'POSTed a JSON event for every flagged command',
    unset: 'unset: none',
  },
  logLevel: logLevelEntry(),
} as const;

export type ApiConfig = ConfigOf<typeof apiConfigSpec>;

/** jmp-api reads recordings from S3 with the same variables as jmp-ssh, so one environment file configures both. */
export const apiRecordingReaderSpec = {
  s3Endpoint: recordingConfigSpec.s3Endpoint,
  s3Region: recordingConfigSpec.s3Region,
  s3ForcePathStyle: recordingConfigSpec.s3ForcePathStyle,
} as const;

/** Every variable jmp-api reads, in the order of --help and the README. */
export const apiConfigSpecs = [apiConfigSpec, drainConfigSpec(API_DRAIN_SECONDS), apiRecordingReaderSpec] as const;
