// Database terminals against real servers (private mariadbd and redis-server
// on unix sockets): the agent's MariaDB account sync and Redis session users,
// and the SQL/Redis guards in front of the real clients — what the guard
// blocks never reaches the server, and the server would have run it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { DbGuard } from '@jmp/guard';
import { MariadbAccounts } from '../../agent/src/db/mariadb-sync.js';
import { DbSessions } from '../../agent/src/db/sessions.js';
import type { PolicyUser } from '../../agent/src/policy/store.js';
import { startMariadb, startRedis, rootSql, redisCli, type Server } from './servers.js';

const quiet = { info() {}, warn() {}, debug() {}, error() {} } as never;
let my: Server;
let rd: Server;

before(async () => {
  [my, rd] = await Promise.all([startMariadb(), startRedis()]);
});
after(async () => {
  await Promise.all([my?.stop(), rd?.stop()]);
});

const person = (username: string, db: PolicyUser['db'], uid = 200_001): PolicyUser => ({
  username,
  uid,
  gid: uid,
  gecos: '',
  home: `/home/${username}`,
  shell: '/bin/bash',
  groups: [],
  login: true,
  root: false,
  ...(db ? { db } : {}),
});

const grantsOf = (u: string) => rootSql(my.socket, `SHOW GRANTS FOR '${u}'@'localhost';`).out;

test('MariaDB accounts follow the right: created via unix_socket, reduced, dropped; root and foreign accounts kept', async () => {
  rootSql(my.socket, "CREATE DATABASE app; CREATE USER 'dba'@'localhost' IDENTIFIED VIA unix_socket;");
  const m = new MariadbAccounts({ socket: my.socket, client: 'mariadb' }, quiet);
  const first = await m.sync([person('alice', { mariadb: 'write' }), person('dba', { mariadb: 'admin' })]);
  assert.equal(first.state, 'synced');
  assert.deepEqual(first.foreign, ['dba']);
  assert.match(grantsOf('alice'), /IDENTIFIED VIA unix_socket/u);
  assert.match(grantsOf('alice'), /SET DEFAULT ROLE `jmp_write`/u);
  assert.match(rootSql(my.socket, 'SHOW GRANTS FOR jmp_write;').out, /INSERT, UPDATE, DELETE.* ON `app`\.\*/u);
  assert.doesNotMatch(rootSql(my.socket, 'SHOW GRANTS FOR jmp_admin;').out, /`mysql`/u);

  const second = await m.sync([person('alice', { mariadb: 'read' })]);
  assert.deepEqual(second.reduced, ['alice']);
  assert.match(grantsOf('alice'), /SET DEFAULT ROLE `jmp_read`/u);
  assert.doesNotMatch(grantsOf('alice'), /jmp_write/u);

  const third = await m.sync([person('alice', undefined)]);
  assert.deepEqual(third.reduced, ['alice']);
  const users = rootSql(my.socket, "SELECT User FROM mysql.global_priv WHERE Host = 'localhost';").out.split('\n');
  assert.ok(!users.includes('alice'), 'her account is gone with her right');
  assert.ok(users.includes('root') && users.includes('dba'), 'root and the DBA account stay');
});

test('MariaDB on a host without a server: nothing to do, said so', async () => {
  const m = new MariadbAccounts({ socket: '/nonexistent/mysqld.sock', client: 'mariadb' }, quiet);
  assert.equal((await m.sync([person('alice', { mariadb: 'read' })])).state, 'absent');
});

/** Feeds `input` through the SQL guard and what it forwards to the real client as root, in db `g`. */
function throughGuard(input: string): { out: string; blocked: string[] } {
  const g = new DbGuard({ dialect: 'mariadb' });
  const a = g.input(Buffer.from(input));
  const b = g.end();
  const sent = Buffer.concat([a.forward, b.forward]).toString();
  const r = spawnSync(
    'mariadb',
    ['--protocol=socket', `--socket=${my.socket}`, '--user=root', '--table', '--force', '--unbuffered', 'g'],
    { input: sent, encoding: 'utf8' },
  );
  return { out: r.stdout + r.stderr, blocked: [...a.blocked, ...b.blocked].map((x) => String(x.rule.id)) };
}

const reset = () =>
  assert.equal(
    rootSql(
      my.socket,
      'DROP DATABASE IF EXISTS g; CREATE DATABASE g; CREATE TABLE g.t (id INT PRIMARY KEY, v TEXT); INSERT INTO g.t VALUES (1, "a;b"), (2, "x");',
    ).code,
    0,
  );
const rows = () => Number(rootSql(my.socket, 'SELECT COUNT(*) FROM g.t;').out.trim());
const tableExists = () =>
  rootSql(
    my.socket,
    "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='g' AND TABLE_NAME='t';",
  ).out.trim() === '1';

/** [name, input, the rule that blocks it, what the server does with it when sent directly]. */
const BLOCKED: Array<[string, string, string, () => boolean]> = [
  ['DELETE without WHERE', 'DELETE FROM t;', 'sql-delete-all', () => rows() === 0],
  ['constant-true WHERE', 'DELETE FROM t WHERE 1 = 1;', 'sql-delete-all', () => rows() === 0],
  [
    'UPDATE without WHERE',
    "UPDATE t SET v = 'z';",
    'sql-update-all',
    () => rootSql(my.socket, "SELECT COUNT(*) FROM g.t WHERE v='z';").out.trim() === '2',
  ],
  ['DROP', 'DROP TABLE t;', 'sql-drop', () => !tableExists()],
  ['TRUNCATE', 'TRUNCATE t;', 'sql-truncate', () => rows() === 0],
  ['/*! */ is code', '/*!40000 DELETE FROM t */;', 'sql-delete-all', () => rows() === 0],
  [
    'after a comment, on a multi-statement line',
    "SELECT 'x;y' /* ; */; DELETE FROM t; -- gone\n",
    'sql-delete-all',
    () => rows() === 0,
  ],
  [
    'DELIMITER // procedure',
    'DELIMITER //\nCREATE PROCEDURE p() BEGIN DELETE FROM t; END//\nDELIMITER ;\n',
    'sql-delete-all',
    () => rootSql(my.socket, 'CALL g.p();').code === 0 && rows() === 0,
  ],
];

for (const [name, input, rule, ran] of BLOCKED) {
  test(`SQL guard blocks, the server would have run it: ${name}`, () => {
    reset();
    const g = throughGuard(input);
    assert.ok(g.blocked.includes(rule), `blocked by ${rule}: ${g.blocked.join(',')}`);
    assert.equal(rows(), 2, 'the rows are still there');
    assert.ok(tableExists());
    // The same input straight to the server (as the client would send it): it runs.
    const direct = spawnSync('mariadb', ['--protocol=socket', `--socket=${my.socket}`, '--user=root', 'g'], {
      input,
      encoding: 'utf8',
    });
    assert.equal(direct.status, 0, direct.stderr);
    assert.ok(ran(), 'the server ran what the guard blocked');
  });
}

test('SQL guard passes the rest whole: strings with ;, comments, multi-statement lines, DELIMITER', () => {
  reset();
  const g = throughGuard(
    "SELECT v FROM t WHERE v = 'a;b'; SELECT /* ; */ COUNT(*) AS n FROM t; -- c\nDELIMITER //\nCREATE PROCEDURE q() BEGIN SELECT 42 AS answer; END//\nDELIMITER ;\nCALL q();\n",
  );
  assert.deepEqual(g.blocked, []);
  assert.match(g.out, /\| a;b +\|/u);
  assert.match(g.out, /\| +2 \|/u);
  assert.match(g.out, /\| +42 \|/u);
});

test('Redis: a read session user cannot SET, is gone after the session; FLUSHALL through the guard never arrives', async () => {
  redisCli(rd.socket, ['SET', 'k1', 'v1']);
  redisCli(rd.socket, ['SET', 'k2', 'v2']);
  const s = new DbSessions(
    { mariadb: { socket: my.socket }, redis: { socket: rd.socket, client: 'redis-cli' } },
    { userByUid: () => person('alice', { redis: 'read' }) },
    quiet,
  );
  const open = await s.handle(
    { op: 'db', kind: 'redis', action: 'open' },
    { uid: 200_001, gid: 200_001, pid: process.pid },
  );
  assert.equal(open.status, 'db');
  if (open.status !== 'db') return;
  assert.match(open.user, /^jmp-alice-\d+-[0-9a-f]{8}$/u);
  const env = { ...process.env, REDISCLI_AUTH: open.secret ?? '' };
  const as = (args: string[]) => redisCli(rd.socket, ['--user', open.user, '--no-auth-warning', ...args], env);
  assert.equal(as(['GET', 'k1']), 'v1');
  assert.match(as(['SET', 'k1', 'x']), /NOPERM/u);
  assert.match(as(['FLUSHALL']), /NOPERM/u, 'the ACL refuses it too');

  // Through the guard to the real redis-cli as the session user: FLUSHALL is not sent.
  const g = new DbGuard({ dialect: 'redis' });
  const r = g.input(Buffer.from('GET k2\nFLUSHALL\nKEYS *\n'));
  assert.deepEqual(
    r.blocked.map((b) => b.rule.id),
    ['redis-flush', 'redis-keys'],
  );
  const out = spawnSync('redis-cli', ['-s', rd.socket, '--user', open.user, '--no-auth-warning'], {
    input: r.forward,
    env,
    encoding: 'utf8',
  }).stdout;
  assert.equal(out.trim(), 'v2');
  assert.equal(redisCli(rd.socket, ['DBSIZE']), '2', 'the keys are still there');

  assert.ok(redisCli(rd.socket, ['ACL', 'USERS']).split('\n').includes(open.user));
  const close = await s.handle(
    { op: 'db', kind: 'redis', action: 'close', user: open.user },
    { uid: 200_001, gid: 200_001, pid: process.pid },
  );
  assert.equal(close.status, 'allow');
  assert.ok(!redisCli(rd.socket, ['ACL', 'USERS']).split('\n').includes(open.user), 'the ACL user is gone');
});

test("Redis: the user of a session whose client died is swept; one may not close another person's", async () => {
  const mk = (username: string) =>
    new DbSessions(
      { mariadb: { socket: my.socket }, redis: { socket: rd.socket, client: 'redis-cli' } },
      { userByUid: () => person(username, { redis: 'write' }) },
      quiet,
    );
  const dead = spawnSync('true').pid!; // a pid that has exited
  const open = await mk('bob').handle({ op: 'db', kind: 'redis', action: 'open' }, { uid: 1, gid: 1, pid: dead });
  assert.equal(open.status, 'db');
  if (open.status !== 'db') return;
  const steal = await mk('mallory').handle(
    { op: 'db', kind: 'redis', action: 'close', user: open.user },
    { uid: 2, gid: 2, pid: 1 },
  );
  assert.equal(steal.status, 'deny');
  assert.ok(redisCli(rd.socket, ['ACL', 'USERS']).includes(open.user));
  await mk('bob').sweep();
  assert.ok(!redisCli(rd.socket, ['ACL', 'USERS']).includes(open.user), 'swept');
});

test('no right, no server: refused with a clear line before anything is created', async () => {
  const none = new DbSessions(
    { mariadb: { socket: my.socket }, redis: { socket: rd.socket, client: 'redis-cli' } },
    { userByUid: () => person('carol', undefined) },
    quiet,
  );
  const peer = { uid: 3, gid: 3, pid: process.pid };
  const r = await none.handle({ op: 'db', kind: 'redis', action: 'open' }, peer);
  assert.deepEqual(r, { status: 'deny', reason: 'carol has no Redis right on this host; request one in jmp' });
  const absent = new DbSessions(
    { mariadb: { socket: '/nonexistent/m.sock' }, redis: { socket: '/nonexistent/r.sock', client: 'redis-cli' } },
    { userByUid: () => person('alice', { mariadb: 'write' }) },
    quiet,
  );
  const m = await absent.handle({ op: 'db', kind: 'mariadb', action: 'open' }, peer);
  assert.deepEqual(m, { status: 'deny', reason: 'no MariaDB server on this host (no socket at /nonexistent/m.sock)' });
});
