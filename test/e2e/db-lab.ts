// The lab the database-terminal suite and benchmark share: host db1 runs its
// own mariadbd and redis-server (inside the host, so mariadbd resolves jmp
// users through the host's NSS for unix_socket), the real agent with fast
// policy pulls, jmp-api with alice (login + mariadb_read + redis_read) and bob
// (login only), and a jmp-ssh whose database command is the agent's bundle.
// Whatever started is stopped again if a later step fails.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client, ClientChannel, PseudoTtyOptions } from 'ssh2';
import { startLab, REPO_DIR, type Lab, type LabHost } from '../lab/lab.js';
import { addGrant, addProject, addService, addUser, startApi, type TestApi } from '../../services/api/test/harness.js';
import { startJmpSsh, login, type RunningSsh } from '../../services/ssh/test/jmp-ssh.js';
import { enrolLabHosts, until, writeAgentConf } from './helpers.js';

export const DB_PASSWORD = 'alice password 12';
const PTY: PseudoTtyOptions = { term: 'xterm', cols: 160, rows: 40 };

export interface DbLab {
  lab: Lab;
  api: TestApi;
  ssh: RunningSsh;
  h: LabHost;
  hostId: number;
  alice: number;
  /** SQL as root inside the host; stdout, tab-separated. */
  rootSql(sql: string): Promise<string>;
  redisRoot(...args: string[]): Promise<string>;
  /** Grants alice a database right on db1; returns the grant id. */
  dbGrant(right: string): Promise<number>;
  /** Waits until the agent has given alice's MariaDB account this role. */
  untilRole(role: string): Promise<void>;
  /** `user` in the jump shell on a terminal, `cmd` typed, until `ready` shows. */
  jumpTo(cmd: string, ready: RegExp, user?: string): Promise<Term>;
  close(): Promise<void>;
}

export interface Term {
  client: Client;
  channel: ClientChannel;
  out(): string;
  send(s: string | Buffer): void;
  until(re: RegExp, ms?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startDbLab(): Promise<DbLab> {
  let lab: Lab | undefined, api: TestApi | undefined, ssh: RunningSsh | undefined, h: LabHost | undefined;
  const close = async () => {
    await ssh?.close();
    await api?.close();
    if (lab) {
      await h
        ?.exec(['sh', '-c', 'kill $(cat /tmp/mysqld.pid) $(cat /tmp/redis.pid) 2>/dev/null; sleep 1'])
        .catch(() => {});
      await lab.stop();
    }
  };
  try {
    lab = await startLab({
      hosts: ['db1'],
      prepare: (info) => {
        writeAgentConf(info, {
          log: { level: 'info' },
          policy: { intervalMs: 1000, jitterMs: 0 },
          db: { mariadb: { socket: '/tmp/mysqld.sock', syncIntervalMs: 2000 }, redis: { socket: '/tmp/redis.sock' } },
        });
        // The agent's client as the person runs it: readable by every user inside the host.
        copyFileSync(join(REPO_DIR, 'dist', 'jmp-agent.mjs'), join(info.tmpDir, 'jmp-agent.mjs'));
      },
    });
    const host = lab.host('db1');
    h = host;
    const start = await host.exec([
      'sh',
      '-c',
      `set -e
       mariadb-install-db --no-defaults --datadir=/tmp/mysql --user=root --auth-root-authentication-method=socket --skip-test-db >/tmp/mysql-install.log 2>&1
       setsid mariadbd --no-defaults --datadir=/tmp/mysql --socket=/tmp/mysqld.sock --skip-networking --user=root --pid-file=/tmp/mysqld.pid --log-error=/tmp/mysqld.err --innodb-buffer-pool-size=16M </dev/null >/dev/null 2>&1 &
       setsid redis-server --port 0 --unixsocket /tmp/redis.sock --unixsocketperm 777 --save '' --appendonly no --dir /tmp --pidfile /tmp/redis.pid --daemonize yes >/dev/null
       for i in $(seq 100); do [ -S /tmp/mysqld.sock ] && [ -S /tmp/redis.sock ] && exit 0; sleep 0.1; done; exit 1`,
    ]);
    assert.equal(start.code, 0, `servers started: ${start.stderr}`);
    const rootSql = async (sql: string) => {
      const r = await host.exec(['mariadb', '--socket=/tmp/mysqld.sock', '-uroot', '-N', '-B', '-e', sql]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    };
    const redisRoot = async (...args: string[]) =>
      (await host.exec(['redis-cli', '-s', '/tmp/redis.sock', ...args])).stdout.trim();
    await rootSql(
      "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT); INSERT INTO app.t VALUES (1, 'keep');",
    );
    await redisRoot('MSET', 'k1', 'v1', 'k2', 'v2');

    const a = await startApi({ listenHost: lab.bridgeAddress });
    api = a;
    const svc = await addService(a.db, (await addProject(a.db)).id);
    const hostId = (await enrolLabHosts(a, svc.id, [host])).db1!;
    const alice = (await addUser(a.db, { username: 'alice', password: DB_PASSWORD })).id;
    const bob = (await addUser(a.db, { username: 'bob', password: DB_PASSWORD })).id;
    await addGrant(a.db, { subject_id: bob, scope_type: 'host', scope_id: hostId, right: 'login' });
    await addGrant(a.db, { subject_id: alice, scope_type: 'host', scope_id: hostId, right: 'login' });
    const dbGrant = async (right: string) => {
      const [row] = await a
        .db('grants')
        .insert({ subject_type: 'user', subject_id: alice, scope_type: 'host', scope_id: hostId, right })
        .returning('id');
      return (row as { id: number }).id;
    };
    const untilRole = async (role: string): Promise<void> => {
      await until(
        `alice's MariaDB default role is ${role}`,
        async () =>
          (
            await host.exec([
              'mariadb',
              '--socket=/tmp/mysqld.sock',
              '-uroot',
              '-N',
              '-B',
              '-e',
              "SHOW GRANTS FOR 'alice'@'localhost'",
            ])
          ).stdout.includes(`SET DEFAULT ROLE \`${role}\``),
        30_000,
      );
    };
    await dbGrant('mariadb_read');
    await dbGrant('redis_read');
    await host.restartAgent();
    await until('db1 knows alice', async () => (await host.exec(['getent', 'passwd', 'alice'])).code === 0, 20_000);
    await untilRole('jmp_read');
    const flags = readFileSync(join(REPO_DIR, 'agent', 'node-flags'), 'utf8').trim();
    const s = await startJmpSsh(a, { dbCommand: `${process.execPath} ${flags} /tmp/jmp-agent.mjs db` });
    ssh = s;
    const jumpTo = (cmd: string, ready: RegExp, user = 'alice') => jump(s.port, cmd, ready, user);
    return { lab, api: a, ssh: s, h: host, hostId, alice, rootSql, redisRoot, dbGrant, untilRole, jumpTo, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function jump(port: number, cmd: string, ready: RegExp, user: string): Promise<Term> {
  const { client } = await login(port, user, { password: DB_PASSWORD });
  const ch = await new Promise<ClientChannel>((res, rej) => client.shell(PTY, (e, c) => (e ? rej(e) : res(c))));
  let buf = '';
  ch.on('data', (d: Buffer) => (buf += d.toString('utf8')));
  ch.stderr.on('data', (d: Buffer) => (buf += d.toString('utf8')));
  const t: Term = {
    client,
    channel: ch,
    out: () => buf,
    send: (s) => void ch.write(s),
    until: async (re, ms = 20_000) => {
      const end = Date.now() + ms;
      while (!re.test(buf)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${re}; output:\n${buf.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    close: async () => {
      client.end();
      await new Promise((r) => setTimeout(r, 100));
    },
  };
  await t.until(/\$ $/u);
  t.send(`${cmd}\r`);
  await t.until(ready);
  return t;
}
