// jmp-api entry point: reads configuration and wires the parts; no logic here.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfigOrExit } from '@jmp/common';
import { drainConfigSpec, drainOnSignals, httpDrainable, drainUsage } from '@jmp/common/drain';
import { apiConfigSpec, type ApiConfig } from './config.js';
import { buildApp, buildContext } from './server.js';
import { createDb, migrate } from './db/knex.js';
import { mintServiceToken, SERVICE_ROLES, type ServiceRole } from './http/auth.js';
import { seedDemo } from './dev/seed-demo.js';
import { expireRequests } from './requests/repository.js';
import { startEmbeddedPostgres } from './dev/embedded-postgres.js';
import { deriveSecrets, parseMasterSecret } from './crypto/secrets.js';

/** Requests take milliseconds; the bound only covers a slow database. */
const API_DRAIN_SECONDS = 15;

const USAGE = `usage: jmp-api <command>

commands:
  serve                 run the API (default)
  dev                   run with embedded defaults: Postgres from embedded-postgres when
                        DATABASE_URL is unset, an in-process store when REDIS_URL is unset,
                        a generated secret in .dev/, the demo organisation seeded
  migrate               create or update the database schema, then exit
  seed-demo             seed the demo organisation into an empty database, print passwords
  service-token ROLE    print a service token for ROLE (${SERVICE_ROLES.join(', ')})

configuration (environment):
  DATABASE_URL            postgres://… (required except in dev)
  REDIS_URL               redis://… (unset: in-process store, single instance only)
  JMP_SECRET_KEY          master secret, ≥ 32 bytes as hex or base64 (required except in dev)
  JMP_API_HOST, JMP_API_PORT   listen address (127.0.0.1:8080)
  JMP_DB_POOL_MAX         Postgres connections per process (10)
  JMP_UID_BASE            first uid given to users (200000)
  JMP_TICKET_TTL_SECONDS  login ticket lifetime, ≤ 60 (30)
  JMP_WEB_CREDENTIAL_TTL_SECONDS web terminal credential lifetime, ≤ 60 (30)
  JMP_SESSION_TTL_SECONDS web session lifetime (28800)
  JMP_SECURE_COOKIES      Secure flag on cookies (true; false only for plain-HTTP dev)
  JMP_LOCKOUT_THRESHOLD, JMP_LOCKOUT_SECONDS   failed logins before lockout (5), lockout (900)
  JMP_AGENT_NO_SNAPSHOT   what agents do with no snapshot: deny|allow (deny)
  JMP_SMTP_URL, JMP_SMTP_FROM  mail for flagged commands (smtp://host:25; unset: no mail)
  JMP_WEBHOOK_URL         POSTed a JSON event for every flagged command (unset: none)
  JMP_LOG_LEVEL           fatal|error|warn|info|debug|trace (info)
${drainUsage(API_DRAIN_SECONDS, 24)}`;

async function main(argv: string[]): Promise<void> {
  const [cmd = 'serve', ...rest] = argv;
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') { process.stdout.write(USAGE); return; }
  const env = { ...process.env };
  let stopPg: (() => Promise<void>) | null = null;

  if (cmd === 'dev') {
    const devDir = resolve(process.env.JMP_DEV_DIR ?? '.dev');
    // 0711: embedded Postgres runs as its own user and must traverse into .dev/pg.
    mkdirSync(devDir, { recursive: true });
    chmodSync(devDir, 0o711);
    const secretFile = resolve(devDir, 'secret.key');
    if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    env.JMP_SECRET_KEY ??= readFileSync(secretFile, 'utf8').trim();
    env.JMP_SECURE_COOKIES ??= 'false';
    if (!env.DATABASE_URL) {
      const pg = await startEmbeddedPostgres(resolve(devDir, 'pg'), Number(env.JMP_DEV_PG_PORT ?? 54329));
      env.DATABASE_URL = pg.url;
      stopPg = pg.stop;
    }
  }
  const config = loadConfigOrExit('jmp-api', apiConfigSpec, env) as ApiConfig;
  const { drainSeconds } = loadConfigOrExit('jmp-api', drainConfigSpec(API_DRAIN_SECONDS), env);
  const needsDb = cmd !== 'service-token';
  for (const [name, v] of [['DATABASE_URL', needsDb ? config.databaseUrl : 'n/a'], ['JMP_SECRET_KEY', config.secretKey]] as const) {
    if (!v) { process.stderr.write(`jmp-api: configuration error: ${name}: is required but not set\n`); process.exit(1); }
  }
  try { parseMasterSecret(config.secretKey!); } catch (e) { process.stderr.write(`jmp-api: configuration error: JMP_SECRET_KEY: ${(e as Error).message}\n`); process.exit(1); }

  switch (cmd) {
    case 'migrate': {
      const db = createDb(config.databaseUrl!);
      await migrate(db, config.uidBase);
      await db.destroy();
      process.stdout.write('jmp-api: schema is up to date\n');
      return;
    }
    case 'service-token': {
      const role = rest[0] as ServiceRole;
      if (!SERVICE_ROLES.includes(role)) { process.stderr.write(`jmp-api: service-token: ROLE must be one of ${SERVICE_ROLES.join(', ')}\n`); process.exit(2); }
      process.stdout.write(mintServiceToken({ secrets: deriveSecrets(parseMasterSecret(config.secretKey!)) }, role) + '\n');
      return;
    }
    case 'seed-demo': {
      const db = createDb(config.databaseUrl!);
      await migrate(db, config.uidBase);
      const creds = await seedDemo(db);
      await db.destroy();
      process.stdout.write(creds ? formatCreds(creds) : 'jmp-api: the database already has users; nothing seeded\n');
      return;
    }
    case 'serve':
    case 'dev': {
      const ctx = await buildContext({ config });
      const { app, dbHealth } = buildApp(ctx);
      if (cmd === 'dev') {
        const creds = await seedDemo(ctx.db);
        if (creds) {
          writeFileSync(resolve(process.env.JMP_DEV_DIR ?? '.dev', 'demo-credentials.txt'), formatCreds(creds), { mode: 0o600 });
          process.stdout.write(formatCreds(creds));
        }
      }
      // Pending access requests past their time are marked expired (also done lazily on read).
      const expiry = setInterval(() => {
        expireRequests(ctx.db, ctx.now()).then((ids) => {
          if (ids.length) ctx.log.info({ requests: ids }, 'access requests expired');
        }, (err) => ctx.log.warn({ err: (err as Error).message }, 'expiring access requests failed'));
      }, 60_000);
      expiry.unref();
      const server = app.listen(config.port, config.host, () => {
        ctx.log.info({ host: config.host, port: config.port, store: config.redisUrl ? 'redis' : 'memory' }, 'jmp-api listening');
        if (cmd === 'dev') {
          process.stdout.write(`\njmp-api is listening on http://${config.host}:${config.port}\n` +
            `  OpenAPI:   http://${config.host}:${config.port}/v1/openapi.json\n` +
            `  health:    http://${config.host}:${config.port}/healthz\n` +
            `  log in:    curl -c /tmp/jmp.cookies -H 'content-type: application/json' -d '{"username":"ada","password":"<from above or .dev/demo-credentials.txt>"}' http://${config.host}:${config.port}/v1/auth/web\n` +
            `  admin token: JMP_SECRET_KEY=$(cat .dev/secret.key) jmp-api service-token admin\n`);
        }
      });
      // SIGTERM drains: the port closes (a balancer retries the refused
      // connect elsewhere), requests in flight finish within the bound.
      drainOnSignals(httpDrainable(server, async () => {
        clearInterval(expiry);
        dbHealth.stop();
        await ctx.store.close();
        await ctx.db.destroy();
        if (stopPg) await stopPg();
      }), { log: ctx.log, graceMs: drainSeconds * 1000 });
      return;
    }
    default:
      process.stderr.write(`jmp-api: unknown command ${JSON.stringify(cmd)}\n\n${USAGE}`);
      process.exit(2);
  }
}

function formatCreds(c: { users: Array<{ username: string; password: string; role: string }>; enrolmentToken: string }): string {
  return `\nDemo organisation seeded. These passwords are shown once (also in .dev/demo-credentials.txt in dev):\n` +
    c.users.map((u) => `  ${u.username.padEnd(8)} ${u.password}   ${u.role}`).join('\n') +
    `\n  enrolment token for agents: ${c.enrolmentToken}\n`;
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`jmp-api: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
