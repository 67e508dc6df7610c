// Database terminals end to end: a lab host runs its own mariadbd and
// redis-server (inside the host, so mariadbd resolves jmp users through the
// host's NSS for unix_socket), the real agent keeps alice's account in step
// with her right, and alice opens `mysql db1` / `redis db1` in jmp-ssh's jump
// shell. Read: SELECT works, the server refuses INSERT; write: INSERT works,
// `DELETE FROM t` is blocked by the guard and the row stays; revoked: the
// grants shrink for the next session. Redis: read cannot SET, FLUSHALL is
// blocked and the keys stay, the session's ACL user is gone afterwards, and
// its secret is in no jmp table, file or log. No right: refused before any
// login on the target.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { copyFileSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientChannel, PseudoTtyOptions } from 'ssh2';
import { startLab, REPO_DIR, type Lab, type LabHost } from '../lab/lab.js';
import { addGrant, addProject, addService, addUser, startApi, type TestApi } from '../../services/api/test/harness.js';
import { startJmpSsh, login, type RunningSsh } from '../../services/ssh/test/jmp-ssh.js';
import { enrolLabHosts, until, writeAgentConf } from './helpers.js';

const PTY: PseudoTtyOptions = { term: 'xterm', cols: 160, rows: 40 };
const PASSWORD = 'alice password 12';
let lab: Lab | undefined, api: TestApi | undefined, ssh: RunningSsh | undefined;
let h: LabHost;
let hostId = 0;
let alice = 0;

/** Runs SQL as root inside the host (over its socket); stdout, tab-separated. */
async function rootSql(sql: string): Promise<string> {
  const r = await h.exec(['mariadb', '--socket=/tmp/mysqld.sock', '-uroot', '-N', '-B', '-e', sql]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}
const redisRoot = async (...args: string[]) =>
  (await h.exec(['redis-cli', '-s', '/tmp/redis.sock', ...args])).stdout.trim();

before(async () => {
  try {
    lab = await startLab({
      hosts: ['db1'],
      prepare: (info) => {
        writeAgentConf(info, {
          log: { level: 'info' },
          policy: { intervalMs: 1000, jitterMs: 0 },
          db: {
            mariadb: { socket: '/tmp/mysqld.sock', syncIntervalMs: 2000 },
            redis: { socket: '/tmp/redis.sock' },
          },
        });
        // The agent's client as the person runs it: readable by every user inside the host.
        copyFileSync(join(REPO_DIR, 'dist', 'jmp-agent.mjs'), join(info.tmpDir, 'jmp-agent.mjs'));
      },
    });
    h = lab.host('db1');
    const start = await h.exec([
      'sh',
      '-c',
      `set -e
       mariadb-install-db --no-defaults --datadir=/tmp/mysql --user=root --auth-root-authentication-method=socket --skip-test-db >/tmp/mysql-install.log 2>&1
       setsid mariadbd --no-defaults --datadir=/tmp/mysql --socket=/tmp/mysqld.sock --skip-networking --user=root --pid-file=/tmp/mysqld.pid --log-error=/tmp/mysqld.err --innodb-buffer-pool-size=16M </dev/null >/dev/null 2>&1 &
       setsid redis-server --port 0 --unixsocket /tmp/redis.sock --unixsocketperm 777 --save '' --appendonly no --dir /tmp --pidfile /tmp/redis.pid --daemonize yes >/dev/null
       for i in $(seq 100); do [ -S /tmp/mysqld.sock ] && [ -S /tmp/redis.sock ] && exit 0; sleep 0.1; done; exit 1`,
    ]);
    assert.equal(start.code, 0, `servers started: ${start.stderr}`);
    await rootSql(
      "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT); INSERT INTO app.t VALUES (1, 'keep');",
    );
    await redisRoot('MSET', 'k1', 'v1', 'k2', 'v2');

    api = await startApi({ listenHost: lab.bridgeAddress });
    const svc = await addService(api.db, (await addProject(api.db)).id);
    hostId = (await enrolLabHosts(api, svc.id, [h])).db1!;
    alice = (await addUser(api.db, { username: 'alice', password: PASSWORD })).id;
    await addUser(api.db, { username: 'bob', password: PASSWORD }).then((bob) =>
      addGrant(api!.db, { subject_id: bob.id, scope_type: 'host', scope_id: hostId, right: 'login' }),
    );
    await addGrant(api.db, { subject_id: alice, scope_type: 'host', scope_id: hostId, right: 'login' });
    await dbGrant('mariadb_read');
    await dbGrant('redis_read');
    await h.restartAgent();
    await until('db1 knows alice', async () => (await h.exec(['getent', 'passwd', 'alice'])).code === 0, 20_000);
    await untilRole('jmp_read');
    const flags = readFileSync(join(REPO_DIR, 'agent', 'node-flags'), 'utf8').trim();
    ssh = await startJmpSsh(api, { dbCommand: `${process.execPath} ${flags} /tmp/jmp-agent.mjs db` });
  } catch (err) {
    await stop();
    throw err;
  }
});

async function stop(): Promise<void> {
  await ssh?.close();
  await api?.close();
  if (lab) {
    await h
      ?.exec(['sh', '-c', 'kill $(cat /tmp/mysqld.pid) $(cat /tmp/redis.pid) 2>/dev/null; sleep 1'])
      .catch(() => {});
    await lab.stop();
  }
}
after(stop);

async function dbGrant(right: string): Promise<number> {
  const [row] = await api!
    .db('grants')
    .insert({ subject_type: 'user', subject_id: alice, scope_type: 'host', scope_id: hostId, right })
    .returning('id');
  return (row as { id: number }).id;
}

async function untilRole(role: string): Promise<void> {
  await until(
    `alice's MariaDB default role is ${role}`,
    async () => (await rootSql("SHOW GRANTS FOR 'alice'@'localhost'")).includes(`SET DEFAULT ROLE \`${role}\``),
    30_000,
  );
}

interface Term {
  out(): string;
  send(s: string): void;
  until(re: RegExp, ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** alice (or `user`) in the jump shell, a terminal, `cmd` typed; waits for `ready`. */
async function jumpTo(cmd: string, ready: RegExp, user = 'alice'): Promise<Term> {
  const { client } = await login(ssh!.port, user, { password: PASSWORD });
  const ch = await new Promise<ClientChannel>((res, rej) => client.shell(PTY, (e, c) => (e ? rej(e) : res(c))));
  let buf = '';
  ch.on('data', (d: Buffer) => (buf += d.toString('utf8')));
  ch.stderr.on('data', (d: Buffer) => (buf += d.toString('utf8')));
  const t: Term = {
    out: () => buf,
    send: (s) => void ch.write(s),
    until: async (re, ms = 20_000) => {
      const end = Date.now() + ms;
      while (!re.test(buf)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${re}; output:\n${buf.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 25));
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

test('read right: SELECT works, the server refuses INSERT', async () => {
  const t = await jumpTo('mysql db1', /MariaDB db1> $/u);
  t.send('SELECT v FROM app.t;\r');
  await t.until(/\| keep \|/u);
  t.send("INSERT INTO app.t VALUES (2, 'no');\r");
  await t.until(/ERROR 1142 .*INSERT command denied to user 'alice'@'localhost'/u);
  t.send('\x04');
  await t.until(/Back in jmp/u);
  await t.close();
  assert.equal(await rootSql('SELECT COUNT(*) FROM app.t'), '1');
});

test('write right: INSERT works, DELETE FROM t is blocked by the guard and the row stays; revoked: next session is read only', async () => {
  const write = await dbGrant('mariadb_write');
  await untilRole('jmp_write');
  const t = await jumpTo('mysql db1', /MariaDB db1> $/u);
  t.send("INSERT INTO app.t VALUES (2, 'new');\r");
  t.send('SELECT COUNT(*) AS n FROM app.t;\r');
  await t.until(/\| +2 \|/u);
  t.send('DELETE FROM app.t;\r');
  await t.until(
    /jmp: blocked by rule "DELETE without a WHERE that limits it" \(high\); not sent: DELETE FROM app\.t;/u,
  );
  // Ctrl-C in the middle of a statement: it is dropped, the session goes on.
  t.send('DELETE FROM app.t\r');
  await t.until(/ {4}-> $/u);
  t.send('\x03');
  t.send('SELECT 7 AS seven;\r');
  await t.until(/\| +7 \|/u);
  t.send('\x04');
  await t.until(/Back in jmp/u);
  await t.close();
  assert.equal(await rootSql('SELECT COUNT(*) FROM app.t'), '2', 'the rows are still there');
  const cmds = await api!.db('commands').orderBy('id').select('line', 'verdict');
  assert.ok(
    cmds.some((c) => c.line === 'DELETE FROM app.t;' && c.verdict === 'block'),
    JSON.stringify(cmds),
  );
  assert.ok(cmds.some((c) => c.line === "INSERT INTO app.t VALUES (2, 'new');" && c.verdict === 'pass'));
  assert.ok(
    !cmds.some((c) => c.line.startsWith('DELETE FROM app.t\n')),
    'the interrupted statement was never judged or sent',
  );

  await api!.db('grants').where({ id: write }).update({ revoked_at: new Date() });
  await untilRole('jmp_read');
  const r = await jumpTo('mysql db1', /MariaDB db1> $/u);
  r.send("INSERT INTO app.t VALUES (3, 'late');\r");
  await r.until(/ERROR 1142 .*INSERT command denied/u);
  r.send('\x04');
  await r.close();
});

test('Redis, read right: GET works, SET is refused, FLUSHALL is blocked and the keys stay; the ACL user is gone after; its secret is nowhere in jmp', async () => {
  const t = await jumpTo('redis db1', /Redis db1> $/u);
  t.send('GET k1\r');
  await t.until(/"v1"/u);
  const users = (await redisRoot('ACL', 'USERS')).split('\n').filter((u) => u.startsWith('jmp-alice-'));
  assert.equal(users.length, 1, 'one session user');
  // The secret, from the client's environment (root inside the host), to look for it everywhere jmp keeps things.
  const env = await h.exec(['sh', '-c', 'for p in $(pgrep -x redis-cli); do tr "\\0" "\\n" < /proc/$p/environ; done']);
  const secret = /^REDISCLI_AUTH=([0-9a-f]{64})$/mu.exec(env.stdout)?.[1];
  assert.ok(secret, 'the client got its secret through the environment');
  const argv = await h.exec(['sh', '-c', 'for p in $(pgrep -x redis-cli); do tr "\\0" " " < /proc/$p/cmdline; done']);
  assert.ok(!argv.stdout.includes(secret), 'never in argv');
  t.send('SET k1 x\r');
  await t.until(/NOPERM/u);
  t.send('FLUSHALL\r');
  await t.until(/jmp: blocked by rule "FLUSHALL \/ FLUSHDB" \(critical\); not sent: FLUSHALL/u);
  t.send('\x04');
  await t.until(/Back in jmp/u);
  await t.close();
  assert.equal(await redisRoot('DBSIZE'), '2', 'the keys are still there');
  assert.equal(await redisRoot('GET', 'k1'), 'v1');
  await until(
    'the session ACL user is gone',
    async () => !(await redisRoot('ACL', 'USERS')).includes(users[0]!),
    10_000,
  );

  // No database password in any jmp table, file or log.
  const tables = (await api!.db.raw(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).rows as Array<{
    tablename: string;
  }>;
  for (const { tablename } of tables) {
    const dump = JSON.stringify(await api!.db(tablename).select());
    assert.ok(!dump.includes(secret), `not in table ${tablename}`);
  }
  const files = (dir: string): string[] =>
    (existsSync(dir) ? readdirSync(dir) : []).flatMap((f) => {
      const p = join(dir, f);
      const s = statSync(p);
      return s.isDirectory() ? files(p) : s.isFile() && s.size < 50_000_000 ? [p] : [];
    });
  for (const f of [...files(h.stateDir), ...files(h.logDir), ...files(ssh!.recordingDir)])
    assert.ok(!readFileSync(f).includes(secret), `not in ${f}`);
});

test('no database right: refused before any login on the target', async () => {
  const before = await api!.db('sessions').count<{ count: string }[]>('* as count');
  const t = await jumpTo('mysql db1', /you have no MariaDB right on db1; request one in jmp/u, 'bob');
  await t.close();
  const afterCount = await api!.db('sessions').count<{ count: string }[]>('* as count');
  assert.equal(afterCount[0]!.count, before[0]!.count, 'no target session was opened');
});
