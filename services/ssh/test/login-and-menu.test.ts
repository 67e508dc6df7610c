// Logging in to jmp-ssh and the jump shell menu, against a real jmp-api.
import { test, before, after, describe } from 'node:test';
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { startApi, addUser, addProject, addService, addHost, addRole, type TestApi } from '../../api/test/harness.js';
import { newTotpSecret, totpCode } from '../../api/src/crypto/totp.js';
import { TOTP_PURPOSE } from '../../api/src/auth/login.js';
import { ApiClient } from '@jmp/contract';
import { parseSshPublicKey } from '@jmp/contract/ssh-key';
import { startJmpSsh, login, shell, exec, type RunningSsh } from './jmp-ssh.js';
import { generateEd25519KeyPair } from '../src/server/host-key.js';

let api: TestApi, ssh: RunningSsh;
let alice: { id: number; username: string };
before(async () => {
  api = await startApi({ env: { JMP_LOCKOUT_THRESHOLD: '3' } });
  ssh = await startJmpSsh(api);
  const p = await addProject(api.db, 'shop');
  const s = await addService(api.db, p.id, 'web');
  alice = await addUser(api.db, { password: 'alice password 1' });
  await addRole(api.db, alice.id, 'service', s.id, 'ops');
  await addHost(api.db, { hostname: 'web-01', service_id: s.id, addresses: ['10.231.0.50'] });
  await addHost(api.db, { hostname: 'web-02', service_id: s.id, addresses: ['10.231.0.51'], state: 'offline' });
  await addHost(api.db, { hostname: 'db-01', service_id: s.id, addresses: ['10.231.0.52'] });
});
after(async () => {
  await ssh.close();
  await api.close();
});

describe('authentication', () => {
  test('password by keyboard-interactive', async () => {
    const { client, prompts } = await login(ssh.port, alice.username, { password: 'alice password 1' });
    assert.deepEqual(prompts, ['Password: ']);
    client.end();
  });
  test('wrong password is refused', async () => {
    await assert.rejects(login(ssh.port, alice.username, { password: 'nope' }), /authentication methods failed/);
  });
  test('password then TOTP', async () => {
    const secret = newTotpSecret();
    const u = await addUser(api.db, {
      password: 'totp user password',
      totp_secret_enc: api.ctx.secrets.seal(secret, TOTP_PURPOSE),
    });
    const { client, prompts } = await login(ssh.port, u.username, {
      password: 'totp user password',
      totp: () => totpCode(secret),
    });
    assert.deepEqual(prompts, ['Password: ', 'TOTP code: ']);
    client.end();
    const bad = await login(ssh.port, u.username, { password: 'totp user password', totp: () => '000000' }).catch(
      (e) => e,
    );
    assert.ok(bad instanceof Error);
  });
  test('a locked account is told why', async () => {
    const u = await addUser(api.db, { password: 'locked user password' });
    for (let i = 0; i < 3; i++) await login(ssh.port, u.username, { password: 'bad' }).catch(() => {});
    const err = await login(ssh.port, u.username, { password: 'locked user password' }).catch((e) => e);
    assert.ok(
      err.instructions.some((i: string) => /is locked after 3 failed logins/.test(i)),
      JSON.stringify(err.instructions),
    );
  });
  test('a disabled user is told so', async () => {
    const u = await addUser(api.db, { password: 'disabled password', status: 'disabled' });
    const err = await login(ssh.port, u.username, { password: 'disabled password' }).catch((e) => e);
    assert.ok(err.instructions.some((i: string) => /is disabled/.test(i)));
  });
  test('public key registered in jmp-api', async () => {
    const keys = generateEd25519KeyPair();
    const parsed = parseSshPublicKey(keys.public);
    assert.ok(typeof parsed !== 'string');
    await api
      .db('user_ssh_keys')
      .insert({ user_id: alice.id, public_key: parsed.line, fingerprint: parsed.fingerprint });
    const { client } = await login(ssh.port, alice.username, { privateKey: keys.private });
    client.end();
    const other = generateEd25519KeyPair();
    await assert.rejects(login(ssh.port, alice.username, { privateKey: other.private }));
  });
});

describe('jump shell', () => {
  test('menu, filter, tab completion, bad number, help, exit', async () => {
    const { client } = await login(ssh.port, alice.username, { password: 'alice password 1' });
    const sh = await shell(client);
    const menu = await sh.until(/\$ $/);
    assert.match(menu, /Welcome to jmp/);
    assert.match(menu, /1\s+db-01\s+10\.231\.0\.52\s+production\s+not enrolled\s+shop\/web\s+\(root\)/);
    assert.match(menu, /3\s+web-02\s+10\.231\.0\.51\s+non-production/);
    assert.doesNotMatch(menu, /\b(online|offline)\b/, 'the environment is never called online/offline');
    sh.send('web\r');
    await sh.until(/No host|2\s+web-01[\s\S]*3\s+web-02[\s\S]*\$ $/);
    sh.send('db\t');
    await sh.until(/db-01 $/);
    sh.send('\x15'); // Ctrl-U
    sh.send('9\r');
    await sh.until(/no host number 9; the list has 3/);
    sh.send('help\r');
    await sh.until(/ssh <host> \[command\]/);
    const closed = new Promise((r) => sh.ch.on('close', r));
    sh.send('exit\r');
    await closed;
    client.end();
  });
  test('end of input at the menu (channel EOF, with and without a terminal) ends the session', async () => {
    const { client } = await login(ssh.port, alice.username, { password: 'alice password 1' });
    try {
      for (const pty of [true, false]) {
        const ch = await new Promise<import('ssh2').ClientChannel>((resolve, reject) =>
          pty
            ? client.shell({ term: 'xterm', cols: 80, rows: 24 }, (e, c) => (e ? reject(e) : resolve(c)))
            : client.shell(false, (e, c) => (e ? reject(e) : resolve(c))),
        );
        let out = '';
        ch.on('data', (d: Buffer) => {
          out += d.toString();
        });
        const closed = new Promise<void>((r) => ch.on('close', () => r()));
        while (!/\$ $/.test(out)) await new Promise((r) => setTimeout(r, 10));
        ch.end(); // EOF, as `ssh -T alice@jmp </dev/null` or a client's Ctrl-D sends it
        let t: NodeJS.Timeout | undefined;
        const ended = await Promise.race([
          closed.then(() => true),
          new Promise<boolean>((r) => {
            t = setTimeout(() => r(false), 5000);
          }),
        ]);
        clearTimeout(t);
        if (!ended) ch.close();
        assert.equal(
          ended,
          true,
          `pty ${pty}: the session stayed open after end of input: ${JSON.stringify(out.slice(-200))}`,
        );
      }
    } finally {
      client.end();
    }
  });
  test('one-shot jump to a host that is not yours is refused with a clear line', async () => {
    const { client } = await login(ssh.port, alice.username, { password: 'alice password 1' });
    const r = await exec(client, 'nosuch uptime');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no host named nosuch among yours/);
    client.end();
  });
  test('a host without registered SSH host keys is refused before connecting', async () => {
    const { client } = await login(ssh.port, alice.username, { password: 'alice password 1' });
    const r = await exec(client, 'web-01 uptime');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no SSH host key for web-01/);
    client.end();
  });
  test("sessions per person are jmp-api's one count of live target sessions: the menu is not one, another instance's is", async () => {
    const limited = await startJmpSsh(api, { maxSessionsPerUser: 1 });
    const { client } = await login(limited.port, alice.username, { password: 'alice password 1' });
    const elsewhere = new ApiClient({ baseUrl: api.url, authorization: () => `Bearer ${api.serviceToken('ssh')}` });
    const id = randomUUID();
    try {
      const menu = await shell(client);
      await menu.until(/\$ $/);
      // Only the menu is open: nothing counts, so the jump goes on to the target (refused there: no host key).
      const second = await exec(client, 'web-01 uptime');
      assert.match(second.stderr, /no SSH host key for web-01/);
      // A live session on another instance takes alice's one place.
      await elsewhere.sessionStarted({
        id,
        user: alice.username,
        host: 'db-01',
        protocol: 'ssh',
        instance: 'other-instance',
      });
      const third = await exec(client, 'web-01 uptime');
      assert.equal(third.code, 1);
      assert.match(third.stderr, /jmp: you have 1 sessions open; the limit is 1/);
    } finally {
      await elsewhere.sessionEnded(id, { bytesIn: 0, bytesOut: 0, endReason: 'exit' }).catch(() => {});
      client.end();
      await limited.close();
    }
  });
});

describe('idle timeout', () => {
  test('keys keep the connection open past the idle time; when they stop, it ends after the idle time', async () => {
    const idle = await startJmpSsh(api, { idleTimeoutSeconds: 2 });
    const { client } = await login(idle.port, alice.username, { password: 'alice password 1' });
    try {
      const sh = await shell(client);
      await sh.until(/\$ $/);
      let closedAt = 0;
      const closed = new Promise<void>((r) =>
        sh.ch.on('close', () => {
          closedAt = Date.now();
          r();
        }),
      );
      // A key every 0.5 s for 3.5 s: longer than the idle time, never idle for it.
      for (let i = 0; i < 7; i++) {
        sh.send(i % 2 ? '\x7f' : 'x');
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.doesNotMatch(sh.out(), /idle for/);
      const lastKey = Date.now();
      await sh.until(/jmp: idle for 2 seconds; disconnecting/, 6_000);
      await closed;
      const quiet = closedAt - lastKey;
      assert.ok(quiet >= 1_400 && quiet < 4_000, `ended ${quiet} ms after the last key`);
    } finally {
      client.end();
      await idle.close();
    }
  });
});
