// jmp-api on Redis Sentinel (REDIS_URL=redis+sentinel://…): a primary, two
// replicas and one sentinel on private ports in a temp dir (two replicas: with
// one, the promoted primary has no replica left to acknowledge a spent mark,
// and logins are denied until one is back — single-use over availability). The primary is
// killed (SIGKILL, no graceful hand-over) right after a ticket was spent; the
// sentinel promotes the replica. A ticket spent before the failover stays
// spent after it — the spent mark is acknowledged by the replica (WAIT) before
// the login is allowed, so async replication cannot lose it — and logins
// resume within 5 s of the kill.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startApi, addUser, addProject, addService, addHost, addGrant, type TestApi } from './harness.js';
import { hostIdentity, type HostIdentity } from './host-identity.js';
import { parseRedisUrl } from '../src/store/redis-connection.js';

const MASTER = 'jmptest';
const dir = mkdtempSync(join(tmpdir(), 'jmp-sentinel-'));
const procs: ChildProcess[] = [];
let api: TestApi;
let id: HostIdentity;
let host: { id: number; hostname: string };
let alice: { id: number; username: string };
let ports: { primary: number; replica: number; replica2: number; sentinel: number };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

async function until<T>(what: string, fn: () => Promise<T | null | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function redis(args: string[], name: string): ChildProcess {
  const sentinelBin = ['/usr/bin/redis-sentinel', '/usr/sbin/redis-sentinel'].find((p) => existsSync(p));
  const sentinel = args.includes('--sentinel');
  // Sentinel is built into redis-server; the redis-sentinel package only adds the name.
  const [bin, argv] =
    sentinel && sentinelBin ? [sentinelBin, args.filter((a) => a !== '--sentinel')] : ['redis-server', args];
  const p = spawn(bin, argv, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  p.stderr!.on('data', (d: Buffer) => process.stderr.write(`${name}: ${d}`));
  procs.push(p);
  return p;
}

const role = async (port: number): Promise<string> => {
  const c = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await c.connect();
    return String(((await c.role()) as unknown[])[0]);
  } finally {
    c.disconnect();
  }
};

before(async () => {
  ports = {
    primary: await freePort(),
    replica: await freePort(),
    replica2: await freePort(),
    sentinel: await freePort(),
  };
  const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  redis(['--port', String(ports.primary), ...common], 'primary');
  for (const [name, port] of [
    ['replica', ports.replica],
    ['replica2', ports.replica2],
  ] as const) {
    redis(['--port', String(port), '--replicaof', '127.0.0.1', String(ports.primary), ...common], name);
    await until(`${name} in sync`, async () => {
      const c = new Redis({
        port,
        host: '127.0.0.1',
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      try {
        await c.connect();
        return /master_link_status:up/.test(await c.info('replication'));
      } finally {
        c.disconnect();
      }
    });
  }
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${ports.sentinel}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${MASTER} 127.0.0.1 ${ports.primary} 1`,
      `sentinel down-after-milliseconds ${MASTER} 1000`,
      `sentinel failover-timeout ${MASTER} 10000`,
      `sentinel parallel-syncs ${MASTER} 1`,
      '',
    ].join('\n'),
  );
  redis([conf, '--sentinel'], 'sentinel');
  await until('the sentinel to see both replicas', async () => {
    const c = new Redis({
      port: ports.sentinel,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
      await c.connect();
      return ((await c.call('SENTINEL', 'REPLICAS', MASTER)) as unknown[]).length === 2;
    } finally {
      c.disconnect();
    }
  });

  api = await startApi({ redisUrl: `redis+sentinel://127.0.0.1:${ports.sentinel}/${MASTER}` });
  id = hostIdentity();
  const s = await addService(api.db, (await addProject(api.db)).id);
  host = await addHost(api.db, { service_id: s.id, state: 'online', agent_public_key: id.publicKeyPem });
  alice = await addUser(api.db);
  await addGrant(api.db, { subject_id: alice.id, scope_type: 'host', scope_id: host.id, right: 'login' });
});

after(async () => {
  await api?.close();
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const ticket = async () => {
  const r = await api.call('POST', '/v1/tickets', {
    auth: `Bearer ${api.serviceToken('ssh')}`,
    body: { user: alice.username, host: host.hostname },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.ticket as string;
};
const login = (t: string) =>
  api.call('POST', '/v1/pam/decide', {
    auth: id.token(host.id),
    body: { op: 'auth', user: alice.username, ticket: t, service: 'sshd' },
  });

test('REDIS_URL redis+sentinel:// names the sentinels and the master, and waits for one replica by default', () => {
  const c = parseRedisUrl('redis+sentinel://:s3cret@10.0.0.1:26379,sentinel-2/mymaster?db=2');
  assert.equal(c.url, null);
  assert.deepEqual(c.options.sentinels, [
    { host: '10.0.0.1', port: 26379 },
    { host: 'sentinel-2', port: 26379 },
  ]);
  assert.equal(c.options.name, 'mymaster');
  assert.equal(c.options.db, 2);
  assert.equal(c.options.password, 's3cret');
  assert.equal(c.waitReplicas, 1);
  assert.equal(parseRedisUrl('redis+sentinel://h:1/m?wait=0').waitReplicas, 0);
  assert.equal(parseRedisUrl('redis://127.0.0.1:6379').waitReplicas, 0);
  assert.throws(() => parseRedisUrl('redis+sentinel://h:1'), /master-name/);
  assert.throws(() => parseRedisUrl('redis+sentinel://h:1/m?wait=x'), /wait/);
});

test('the primary dies: a ticket spent before stays spent, and logins resume within 5 s', async () => {
  const spent = await ticket();
  assert.equal((await login(spent)).body.allow, true);
  const before = await ticket();

  const primary = procs[0]!;
  const killedAt = Date.now();
  primary.kill('SIGKILL');

  // Logins resume: fresh tickets until one is allowed (each attempt with a new ticket, as a person retrying).
  let resumedMs = -1;
  while (Date.now() - killedAt < 15_000) {
    const r = await login(await ticket()).catch(() => null);
    if (r?.status === 200 && r.body.allow === true) {
      resumedMs = Date.now() - killedAt;
      break;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  const roles = [await role(ports.replica), await role(ports.replica2)].sort();
  assert.deepEqual(roles, ['master', 'slave'], 'the sentinel promoted a replica');
  assert.ok(resumedMs >= 0, 'logins did not resume within 15 s');
  process.stderr.write(`redis-sentinel: logins resumed ${resumedMs} ms after the primary was killed\n`);
  assert.ok(resumedMs <= 5000, `logins resumed ${resumedMs} ms after the primary died (goal ≤ 5 s)`);

  // The ticket spent before the failover is still refused: its mark reached the replica before it was allowed.
  const replay = (await login(spent)).body;
  assert.equal(replay.allow, false);
  assert.equal(replay.reason, 'ticket has already been used');
  // A ticket minted before the failover and not yet used works once, and only once.
  assert.equal((await login(before)).body.allow, true);
  assert.equal((await login(before)).body.reason, 'ticket has already been used');
});

test('without a replica to acknowledge the spent mark, the login is denied (fails closed)', async () => {
  // Both replicas gone: the new primary is alone, WAIT 1 cannot be acknowledged.
  for (const p of procs.slice(1, 3)) p.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  const r = await until('the store to be alone', async () => {
    const x = await login(await ticket());
    return x.body?.allow === true ? null : x;
  });
  assert.notEqual(r.body?.allow, true, JSON.stringify(r.body));
});
