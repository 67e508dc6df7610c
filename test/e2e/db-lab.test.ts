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
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { until } from './helpers.js';
import { startDbLab, DB_PASSWORD, type DbLab } from './db-lab.js';
import { login } from '../../services/ssh/test/jmp-ssh.js';
import type { ClientChannel } from 'ssh2';

let L: DbLab;
before(async () => {
  L = await startDbLab();
});
after(async () => {
  await L?.close();
});

test('read right: SELECT works, the server refuses INSERT', async () => {
  const t = await L.jumpTo('mysql db1', /MariaDB db1> $/u);
  t.send('SELECT v FROM app.t;\r');
  await t.until(/\| keep \|/u);
  t.send("INSERT INTO app.t VALUES (2, 'no');\r");
  await t.until(/ERROR 1142 .*INSERT command denied to user 'alice'@'localhost'/u);
  t.send('\x04');
  await t.until(/Back in jmp/u);
  await t.close();
  assert.equal(await L.rootSql('SELECT COUNT(*) FROM app.t'), '1');
});

test('write right: INSERT works, DELETE FROM t is blocked by the guard and the row stays; revoked: next session is read only', async () => {
  const write = await L.dbGrant('mariadb_write');
  await L.untilRole('jmp_write');
  const t = await L.jumpTo('mysql db1', /MariaDB db1> $/u);
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
  assert.equal(await L.rootSql('SELECT COUNT(*) FROM app.t'), '2', 'the rows are still there');
  const cmds = await L.api.db('commands').orderBy('id').select('line', 'verdict');
  assert.ok(
    cmds.some((c) => c.line === 'DELETE FROM app.t;' && c.verdict === 'block'),
    JSON.stringify(cmds),
  );
  assert.ok(cmds.some((c) => c.line === "INSERT INTO app.t VALUES (2, 'new');" && c.verdict === 'pass'));
  assert.ok(
    !cmds.some((c) => c.line.startsWith('DELETE FROM app.t\n')),
    'the interrupted statement was never judged or sent',
  );

  await L.api.db('grants').where({ id: write }).update({ revoked_at: new Date() });
  await L.untilRole('jmp_read');
  const r = await L.jumpTo('mysql db1', /MariaDB db1> $/u);
  r.send("INSERT INTO app.t VALUES (3, 'late');\r");
  await r.until(/ERROR 1142 .*INSERT command denied/u);
  r.send('\x04');
  await r.close();
});

test('Redis (row d2 of the databases list), read right: GET works, SET is refused, FLUSHALL is blocked and the keys stay; the ACL user is gone after; its secret is nowhere in jmp', async () => {
  const t = await L.jumpTo('d2', /Redis db1> $/u);
  t.send('GET k1\r');
  await t.until(/"v1"/u);
  const users = (await L.redisRoot('ACL', 'USERS')).split('\n').filter((u) => u.startsWith('jmp-alice-'));
  assert.equal(users.length, 1, 'one session user');
  // The secret, from the client's environment (root inside the host), to look for it everywhere jmp keeps things.
  const env = await L.h.exec([
    'sh',
    '-c',
    'for p in $(pgrep -x redis-cli); do tr "\\0" "\\n" < /proc/$p/environ; done',
  ]);
  const secret = /^REDISCLI_AUTH=([0-9a-f]{64})$/mu.exec(env.stdout)?.[1];
  assert.ok(secret, 'the client got its secret through the environment');
  const argv = await L.h.exec(['sh', '-c', 'for p in $(pgrep -x redis-cli); do tr "\\0" " " < /proc/$p/cmdline; done']);
  assert.ok(!argv.stdout.includes(secret), 'never in argv');
  t.send('SET k1 x\r');
  await t.until(/NOPERM/u);
  t.send('FLUSHALL\r');
  await t.until(/jmp: blocked by rule "FLUSHALL \/ FLUSHDB" \(critical\); not sent: FLUSHALL/u);
  t.send('\x04');
  await t.until(/Back in jmp/u);
  await t.close();
  assert.equal(await L.redisRoot('DBSIZE'), '2', 'the keys are still there');
  assert.equal(await L.redisRoot('GET', 'k1'), 'v1');
  await until(
    'the session ACL user is gone',
    async () => !(await L.redisRoot('ACL', 'USERS')).includes(users[0]!),
    10_000,
  );

  // No database password in any jmp table, file or log.
  const tables = (await L.api.db.raw(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).rows as Array<{
    tablename: string;
  }>;
  for (const { tablename } of tables) {
    const dump = JSON.stringify(await L.api.db(tablename).select());
    assert.ok(!dump.includes(secret), `not in table ${tablename}`);
  }
  const files = (dir: string): string[] =>
    (existsSync(dir) ? readdirSync(dir) : []).flatMap((f) => {
      const p = join(dir, f);
      const s = statSync(p);
      return s.isDirectory() ? files(p) : s.isFile() && s.size < 50_000_000 ? [p] : [];
    });
  for (const f of [...files(L.h.stateDir), ...files(L.h.logDir), ...files(L.ssh.recordingDir)])
    assert.ok(!readFileSync(f).includes(secret), `not in ${f}`);
});

test('one-shot from the ssh command line: `ssh -t alice@jmp mysql db1`, then exit ends the connection with 0', async () => {
  const { client } = await login(L.ssh.port, 'alice', { password: DB_PASSWORD });
  try {
    const ch = await new Promise<ClientChannel>((res, rej) =>
      client.exec('mysql db1', { pty: { term: 'xterm', cols: 120, rows: 40 } }, (e, c) => (e ? rej(e) : res(c))),
    );
    let buf = '';
    let code: number | null = null;
    ch.on('data', (d: Buffer) => (buf += d.toString('utf8')));
    ch.stderr.on('data', (d: Buffer) => (buf += d.toString('utf8')));
    ch.on('exit', (c: number) => (code = c));
    const closed = new Promise((r) => ch.on('close', r));
    await until('the MariaDB prompt', () => /MariaDB db1> $/u.test(buf), 20_000);
    ch.write('SELECT v FROM app.t;\r');
    await until('the row', () => /\| keep \|/u.test(buf), 20_000);
    ch.write('\x04');
    await closed;
    assert.equal(code, 0, buf.slice(-500));
    assert.doesNotMatch(buf, /Back in jmp/u, 'no menu after a one-shot');
  } finally {
    client.end();
  }
});

test('no database right: refused before any login on the target', async () => {
  const before = await L.api.db('sessions').count<{ count: string }[]>('* as count');
  const t = await L.jumpTo('mysql db1', /you have no MariaDB right on db1; request one in jmp/u, 'bob');
  await t.close();
  const afterCount = await L.api.db('sessions').count<{ count: string }[]>('* as count');
  assert.equal(afterCount[0]!.count, before[0]!.count, 'no target session was opened');
});

test('bad input: a 10 MB statement and binary input get a clear line and the session goes on; a server down, a clear line and the record closes', async () => {
  const t = await L.jumpTo('mysql db1', /MariaDB db1> $/u);
  t.send(`SELECT '${'x'.repeat(10 * 1024 * 1024)}';\r`);
  await t.until(/blocked by rule "statement too long to check"/u, 60_000);
  t.send('SELECT 1 AS one,\r');
  t.send(Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0d]));
  await t.until(/blocked by rule "binary input/u);
  t.send('SELECT 5 AS five;\r');
  await t.until(/\| +5 \|/u);
  t.send('\x04');
  await t.until(/Back in jmp/u);
  await t.close();

  await L.h.exec([
    'sh',
    '-c',
    'kill $(cat /tmp/mysqld.pid); for i in $(seq 100); do [ -S /tmp/mysqld.sock ] || exit 0; sleep 0.1; done',
  ]);
  const down = await L.jumpTo('mysql db1', /no MariaDB server on this host \(no socket at \/tmp\/mysqld\.sock\)/u);
  await down.until(/Back in jmp/u);
  await down.close();
  const open = await L.api.db('sessions').whereNull('ended_at').count<{ count: string }[]>('* as count');
  assert.equal(Number(open[0]!.count), 0, 'every session record is closed');
});
