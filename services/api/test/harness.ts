// Test harness: a fresh database per test file on the machine's real
// Postgres, the real Redis (own key prefix), and jmp-api on a random port.
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import knexFactory from 'knex';
import { loadConfig } from '@jmp/runtime';
import { apiConfigSpec, type ApiConfig } from '../src/config.js';
import { buildContext, buildApp } from '../src/server.js';
import { createDb, type Db } from '../src/db/knex.js';
import { RedisStore } from '../src/store/redis.js';
import { MemoryStore } from '../src/store/memory.js';
import { hashPassword } from '../src/crypto/passwords.js';
import { mintServiceToken, type ServiceRole } from '../src/http/auth.js';
import type { Ctx } from '../src/context.js';

export const ADMIN_DB_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `jmp_t_${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: ADMIN_DB_URL, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${name}`);
  await admin.destroy();
  const u = new URL(ADMIN_DB_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const a = knexFactory({ client: 'pg', connection: ADMIN_DB_URL, pool: { min: 0, max: 1 } });
      await a.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.destroy();
    },
  };
}

export interface TestApi {
  ctx: Ctx;
  db: Db;
  url: string;
  server: Server;
  config: ApiConfig;
  serviceToken(role: ServiceRole): string;
  /** fetch with JSON in and out; `auth` becomes the Authorization header. */
  call(
    method: string,
    path: string,
    opts?: { body?: unknown; auth?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

/** `listenHost`: 127.0.0.1 by default; lab tests use the lab bridge address so agents in the hosts can reach it. */
export async function startApi(
  opts: {
    redis?: boolean;
    redisUrl?: string;
    env?: Record<string, string>;
    databaseUrl?: string;
    listenHost?: string;
    port?: number;
  } = {},
): Promise<TestApi> {
  const dbHandle = opts.databaseUrl ? null : await createTestDatabase();
  const databaseUrl = opts.databaseUrl ?? dbHandle!.url;
  const config = loadConfig(apiConfigSpec, {
    DATABASE_URL: databaseUrl,
    JMP_SECRET_KEY: randomBytes(32).toString('hex'),
    JMP_SECURE_COOKIES: 'false',
    JMP_LOG_LEVEL: process.env.JMP_TEST_LOG_LEVEL ?? 'silent',
    ...opts.env,
  });
  const db = createDb(databaseUrl);
  const store =
    opts.redis === false ? new MemoryStore() : new RedisStore(opts.redisUrl ?? REDIS_URL, `jmp-test:${randomUUID()}:`);
  const ctx = await buildContext({ config, db, store });
  const { app, dbHealth } = buildApp(ctx);
  const listenHost = opts.listenHost ?? '127.0.0.1';
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(opts.port ?? 0, listenHost, () => resolve(s));
  });
  const url = `http://${listenHost}:${(server.address() as AddressInfo).port}`;
  return {
    ctx,
    db,
    url,
    server,
    config,
    serviceToken: (role) => mintServiceToken(ctx, role),
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      if (o.body !== undefined) headers['content-type'] = 'application/json';
      if (o.auth) headers.authorization = o.auth;
      const res = await fetch(url + path, {
        method,
        headers,
        body: o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON */
      }
      return { status: res.status, body, headers: res.headers };
    },
    async close() {
      dbHealth.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await store.close();
      await db.destroy();
      await dbHandle?.drop();
    },
  };
}

// ---- fixtures: plain inserts, so tests state exactly the world they need ----

let counter = 0;
const uniq = (p: string) => `${p}${++counter}${randomBytes(2).toString('hex')}`;

export async function addUser(
  db: Db,
  over: Partial<{
    username: string;
    password: string;
    status: string;
    is_admin: boolean;
    is_auditor: boolean;
    department_id: number | null;
    leader_id: number | null;
    email: string;
    display_name: string;
    totp_secret_enc: string | null;
  }> = {},
) {
  const { password, ...rest } = over;
  const [row] = await db('users')
    .insert({
      username: uniq('u'),
      display_name: 'Test User',
      email: null,
      ...rest,
      password_hash: password ? await hashPassword(password) : null,
    })
    .returning('*');
  return row as { id: number; username: string; uid: number };
}

export async function addDepartment(
  db: Db,
  over: Partial<{ name: string; parent_id: number | null; leader_id: number | null }> = {},
) {
  const [row] = await db('departments')
    .insert({ name: uniq('dept'), ...over })
    .returning('*');
  return row as { id: number; name: string };
}

export async function addProject(db: Db, name = uniq('proj')) {
  const [row] = await db('projects').insert({ name }).returning('*');
  return row as { id: number; name: string };
}

export async function addService(db: Db, projectId: number, name = uniq('svc')) {
  const [row] = await db('services').insert({ project_id: projectId, name }).returning('*');
  return row as { id: number; name: string; project_id: number };
}

export async function addHost(
  db: Db,
  over: Partial<{
    hostname: string;
    state: string;
    service_id: number | null;
    addresses: string[];
    ssh_host_keys: string[];
    agent_public_key: string | null;
    kind: string;
  }> = {},
) {
  const { addresses, ssh_host_keys, ...rest } = over;
  const [row] = await db('hosts')
    .insert({
      hostname: uniq('host'),
      state: 'online',
      ...rest,
      addresses: JSON.stringify(addresses ?? ['10.0.0.1']),
      ssh_host_keys: JSON.stringify(ssh_host_keys ?? []),
    })
    .returning('*');
  return row as { id: number; hostname: string; service_id: number | null };
}

export async function addRole(
  db: Db,
  userId: number,
  scopeType: 'project' | 'service',
  scopeId: number,
  role: 'owner' | 'ops',
  opsLead = false,
) {
  await db('roles').insert({ user_id: userId, scope_type: scopeType, scope_id: scopeId, role, ops_lead: opsLead });
}

export async function addGrant(
  db: Db,
  g: {
    subject_type?: 'user' | 'department';
    subject_id: number;
    scope_type: 'host' | 'service' | 'project';
    scope_id: number;
    right: 'login' | 'root';
    valid_from?: Date;
    valid_until?: Date | null;
  },
) {
  const [row] = await db('grants')
    .insert({ subject_type: 'user', origin: 'admin', ...g })
    .returning('*');
  return row as { id: number };
}

/** Logs a person in through /v1/auth/web; returns headers for cookie-authenticated calls. */
export async function webLogin(api: TestApi, username: string, password: string, totp?: string) {
  const r = await api.call('POST', '/v1/auth/web', { body: { username, password, ...(totp ? { totp } : {}) } });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]!;
  return { cookie: { cookie, 'x-jmp-csrf': r.body.csrfToken as string }, user: r.body.user };
}
