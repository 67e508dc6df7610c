// The web terminal against a real jmp-api and jmp-ssh: the handshake (cookie,
// origin), the menu, one-shot jumps, refusals and the sentences at the end.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import {
  startApi,
  addUser,
  addProject,
  addService,
  addHost,
  addRole,
  webLogin,
  type TestApi,
} from '../../api/test/harness.js';
import { startJmpSsh, login, type RunningSsh } from '../../ssh/test/jmp-ssh.js';
import { startSocket, spawnSocket, Terminal, connectTerminal, metric, until, type RunningSocket } from './stack.js';

let api: TestApi, ssh: RunningSsh, sock: RunningSocket;
let alice: { id: number; username: string };
let cookie: string;

before(async () => {
  api = await startApi();
  ssh = await startJmpSsh(api);
  sock = await startSocket(api, ssh);
  const p = await addProject(api.db, 'shop');
  const s = await addService(api.db, p.id, 'web');
  alice = await addUser(api.db, { password: 'alice password 1' });
  await addRole(api.db, alice.id, 'service', s.id, 'ops');
  await addHost(api.db, { hostname: 'web-01', service_id: s.id, addresses: ['10.234.0.50'] });
  await addHost(api.db, { hostname: 'db-01', service_id: s.id, addresses: ['10.234.0.52'] });
  cookie = (await webLogin(api, alice.username, 'alice password 1')).cookie.cookie;
});
after(async () => {
  await sock.close();
  await ssh.close();
  await api.close();
});

const refused = async (p: Promise<unknown>): Promise<Error & { data?: { code?: string } }> => {
  const err = await p.then(
    () => null,
    (e: Error) => e,
  );
  assert.ok(err, 'the handshake was refused');
  return err;
};

describe('handshake', () => {
  test('no cookie is refused with the reason', async () => {
    const err = await refused(connectTerminal(sock.url, { origin: sock.origin }));
    assert.match(err.message, /not logged in: no jmp_session cookie/);
    assert.equal(err.data?.code, 'no_session');
  });
  test('a bad cookie is refused', async () => {
    const err = await refused(
      connectTerminal(sock.url, { origin: sock.origin, cookie: 'jmp_session=eyJhbGciOiJIUzI1NiJ9.e30.xxx' }),
    );
    assert.match(err.message, /web session is not valid; log in again/);
    assert.equal(err.data?.code, 'session_refused');
  });
  test('an expired session is told to log in again', async () => {
    const expired = jwt.sign(
      { uid: alice.id, csrf: 'x', exp: Math.floor(Date.now() / 1000) - 5 },
      api.ctx.secrets.sessionKey,
      { algorithm: 'HS256', audience: 'jmp-session', subject: alice.username },
    );
    const err = await refused(connectTerminal(sock.url, { origin: sock.origin, cookie: `jmp_session=${expired}` }));
    assert.equal(err.message, 'your web session expired, log in again');
  });
  test('a disabled user is refused', async () => {
    const u = await addUser(api.db, { password: 'bob password 12' });
    const c = (await webLogin(api, u.username, 'bob password 12')).cookie.cookie;
    await api.db('users').where({ id: u.id }).update({ status: 'disabled' });
    const err = await refused(connectTerminal(sock.url, { origin: sock.origin, cookie: c }));
    assert.match(err.message, new RegExp(`user ${u.username} is disabled`));
  });
  test('a foreign or missing Origin is refused (CSRF)', async () => {
    const evil = await refused(connectTerminal(sock.url, { origin: 'https://evil.example', cookie }));
    assert.match(evil.message, /origin https:\/\/evil\.example does not match this server/);
    assert.equal(evil.data?.code, 'bad_origin');
    const none = await refused(connectTerminal(sock.url, { cookie }));
    assert.match(none.message, /no Origin header/);
    assert.ok((await metric(sock.url, 'jmp_socket_handshakes_refused_total')) >= 2);
  });
  test('JMP_SOCKET_ORIGINS names the allowed origins', async () => {
    const s = await startSocket(api, ssh, { origins: ['https://jmp.example.com'] });
    try {
      const ok = await connectTerminal(s.url, { origin: 'https://jmp.example.com', cookie });
      ok.close();
      const err = await refused(connectTerminal(s.url, { origin: s.origin, cookie }));
      assert.match(err.message, /is not allowed to open terminals \(JMP_SOCKET_ORIGINS\)/);
    } finally {
      await s.close();
    }
  });
  test('the default namespace is closed', async () => {
    const { io } = await import('socket.io-client');
    const s = io(sock.url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { origin: sock.origin, cookie },
    });
    const err = await new Promise<Error>((r) => s.once('connect_error', r));
    s.close();
    assert.match(err.message, /connect to the \/terminal namespace/);
  });
});

describe('terminal', () => {
  test('the menu lists my hosts; exit ends with "session ended"', async () => {
    const t = await Terminal.connect(sock.url, { cookie, origin: sock.origin });
    assert.deepEqual(await t.open(null), { ok: true });
    const menu = await t.until(/\$ $/);
    assert.match(menu, new RegExp(`Welcome to jmp, ${alice.username}`));
    assert.match(menu, /1\s+db-01\s+10\.234\.0\.52\s+production\s+not enrolled\s+shop\/web/);
    assert.match(menu, /2\s+web-01\s+10\.234\.0\.50\s+production/);
    assert.equal(await metric(sock.url, 'jmp_socket_terminals'), 1);
    t.send('web\r');
    await t.until(/web-01[\s\S]*\$ $/, 5000, menu.length);
    t.send(new TextEncoder().encode('exit\r'));
    assert.deepEqual(await t.exited, { reason: 'session ended' });
    await until('disconnected', () => t.disconnected);
    assert.equal(await metric(sock.url, 'jmp_socket_terminals'), 0);
    const audit = await api
      .db('audit_events')
      .where({ action: 'auth.login', target: alice.username })
      .orderBy('id', 'desc')
      .first();
    assert.equal(audit.data.method, 'web-credential');
  });
  test('a host that is not mine: jmp-ssh says so, then the terminal ends with the exit code', async () => {
    const t = await Terminal.connect(sock.url, { cookie, origin: sock.origin });
    assert.deepEqual(await t.open('nosuch'), { ok: true });
    await t.until(/no host named nosuch among yours/);
    assert.deepEqual(await t.exited, { reason: 'session ended (exit code 1)' });
  });
  test('bad open requests get a sentence; a second open is refused', async () => {
    const t = await Terminal.connect(sock.url, { cookie, origin: sock.origin });
    assert.deepEqual(await t.open(null, 0, 40), { ok: false, error: 'open.cols: must be at least 2' });
    assert.deepEqual(await t.open('bad host!'), { ok: false, error: 'open.host: must be a DNS host name' });
    assert.deepEqual(await t.open(null), { ok: true });
    const again = await t.open(null);
    assert.equal(again.ok, false);
    assert.match((again as { error: string }).error, /already has a terminal/);
    t.close();
  });
  test('an input message over 64 KiB ends the terminal with the reason', async () => {
    const t = await Terminal.connect(sock.url, { cookie, origin: sock.origin });
    await t.open(null);
    await t.until(/\$ $/);
    t.send('x'.repeat(64 * 1024 + 1));
    assert.match((await t.exited).reason, /larger than 64 KiB; send input in smaller pieces/);
  });
  test('the terminal ends when the web session does', async () => {
    const shortApi = await startApi({ env: { JMP_SESSION_TTL_SECONDS: '3' } });
    const shortSsh = await startJmpSsh(shortApi);
    const s = await startSocket(shortApi, shortSsh);
    try {
      const u = await addUser(shortApi.db, { password: 'carol password 1' });
      const c = (await webLogin(shortApi, u.username, 'carol password 1')).cookie.cookie;
      const t = await Terminal.connect(s.url, { cookie: c, origin: s.origin });
      assert.deepEqual(await t.open(null), { ok: true });
      await t.until(/\$ $/);
      assert.deepEqual(await t.exited, { reason: 'your web session expired, log in again' });
    } finally {
      await s.close();
      await shortSsh.close();
      await shortApi.close();
    }
  });
  test("a user disabled after the handshake: jmp-ssh's refusal is the exit reason", async () => {
    const u = await addUser(api.db, { password: 'dave password 12' });
    const c = (await webLogin(api, u.username, 'dave password 12')).cookie.cookie;
    const t = await Terminal.connect(sock.url, { cookie: c, origin: sock.origin });
    await api.db('users').where({ id: u.id }).update({ status: 'disabled' });
    const r = await t.open(null);
    assert.deepEqual(r, { ok: false, error: `user ${u.username} is disabled; ask an administrator` });
    assert.equal((await t.exited).reason, `user ${u.username} is disabled; ask an administrator`);
  });
  test('jmp-ssh unreachable', async () => {
    const s = await startSocket(api, { port: 1, fingerprint: `SHA256:${'A'.repeat(43)}` });
    try {
      const t = await Terminal.connect(s.url, { cookie, origin: s.origin });
      assert.deepEqual(await t.open(null), { ok: false, error: 'jmp-ssh unreachable' });
      assert.deepEqual(await t.exited, { reason: 'jmp-ssh unreachable' });
    } finally {
      await s.close();
    }
  });
  test('a jmp-ssh whose host key is not the pinned one is refused', async () => {
    const s = await startSocket(api, { port: ssh.port, fingerprint: `SHA256:${'A'.repeat(43)}` });
    try {
      const t = await Terminal.connect(s.url, { cookie, origin: s.origin });
      const r = await t.open(null);
      assert.equal(r.ok, false);
      assert.match((await t.exited).reason, /host key is not the configured one/);
    } finally {
      await s.close();
    }
  });
  test('jmp-ssh going away ends the terminal with a sentence', async () => {
    const other = await startJmpSsh(api, { hostKeyPath: ssh.hostKeyPath });
    const s = await startSocket(api, other);
    try {
      const t = await Terminal.connect(s.url, { cookie, origin: s.origin });
      await t.open(null);
      await t.until(/\$ $/);
      await other.close();
      assert.match((await t.exited).reason, /^(session ended|the connection to jmp-ssh was lost)$/);
    } finally {
      await s.close();
    }
  });
  test('the page closing the socket ends the ssh session', async () => {
    const t = await Terminal.connect(sock.url, { cookie, origin: sock.origin });
    await t.open(null);
    await t.until(/\$ $/);
    t.close();
    await until('the terminal is gone', async () => (await metric(sock.url, 'jmp_socket_terminals')) === 0);
  });
});

describe('the credential at jmp-ssh', () => {
  const issue = async () =>
    (
      await api.call('POST', '/v1/web/ssh-credentials', {
        auth: `Bearer ${api.serviceToken('socket')}`,
        body: { session: cookie.replace(/^jmp_session=/, '') },
      })
    ).body as { credential: string };
  test('logs in once by keyboard-interactive; a second use is refused with the reason', async () => {
    const { credential } = await issue();
    const first = await login(ssh.port, alice.username, { password: credential });
    assert.deepEqual(first.prompts, ['Password: '], 'no second factor is asked');
    first.client.end();
    const err = await login(ssh.port, alice.username, { password: credential }).then(
      () => null,
      (e: Error & { instructions: string[] }) => e,
    );
    assert.ok(err, 'the second login was refused');
    assert.ok(
      err.instructions.some((i: string) => /already used/.test(i)),
      JSON.stringify(err.instructions),
    );
  });
  test('works as password auth too, once', async () => {
    const { Client } = await import('ssh2');
    const { credential } = await issue();
    const attempt = () =>
      new Promise<boolean>((r) => {
        const c = new Client();
        c.once('ready', () => {
          c.end();
          r(true);
        });
        c.once('error', () => r(false));
        c.connect({
          host: '127.0.0.1',
          port: ssh.port,
          username: alice.username,
          password: credential,
          authHandler: ['password'],
          readyTimeout: 10_000,
        });
      });
    assert.equal(await attempt(), true);
    assert.equal(await attempt(), false);
  });
  test('an ordinary password over password auth is refused (people use keyboard-interactive)', async () => {
    const { Client } = await import('ssh2');
    const ok = await new Promise<boolean>((r) => {
      const c = new Client();
      c.once('ready', () => {
        c.end();
        r(true);
      });
      c.once('error', () => r(false));
      c.connect({
        host: '127.0.0.1',
        port: ssh.port,
        username: alice.username,
        password: 'alice password 1',
        authHandler: ['password'],
        readyTimeout: 10_000,
      });
    });
    assert.equal(ok, false);
  });
});

describe('the process', () => {
  test(
    'SIGTERM: the port closes, an open terminal is told why once the drain bound passes',
    { timeout: 60_000 },
    async () => {
      const p = await spawnSocket(api, ssh, { JMP_DRAIN_SECONDS: '1' });
      const t = await Terminal.connect(p.url, { cookie, origin: p.url });
      await t.open(null);
      await t.until(/\$ $/);
      const code = p.stop();
      assert.deepEqual(await t.exited, { reason: 'jmp-socket is restarting; open the terminal again' });
      assert.equal(await code, 0);
      await assert.rejects(fetch(`${p.url}/healthz`));
    },
  );
});

describe('http', () => {
  test('/healthz and /metrics', async () => {
    assert.deepEqual(await (await fetch(`${sock.url}/healthz`)).json(), { ok: true });
    assert.match(await (await fetch(`${sock.url}/metrics`)).text(), /jmp_socket_terminals\{service="jmp-socket"\}/);
  });
  test('the console: "not built" page, then its files with a single-page fallback', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jmp-web-'));
    const s = await startSocket(api, ssh, { webDir: dir });
    try {
      const missing = await fetch(`${s.url}/`, { headers: { accept: 'text/html' } });
      assert.equal(missing.status, 503);
      assert.match(await missing.text(), /console not built: run <code>npm run build -w services\/web<\/code>/);
      writeFileSync(join(dir, 'index.html'), '<!doctype html><title>jmp console</title>');
      writeFileSync(join(dir, 'app.js'), 'console.log(1)');
      assert.match(await (await fetch(`${s.url}/`, { headers: { accept: 'text/html' } })).text(), /jmp console/);
      assert.match(
        await (await fetch(`${s.url}/hosts/web-01`, { headers: { accept: 'text/html' } })).text(),
        /jmp console/,
      );
      assert.equal(await (await fetch(`${s.url}/app.js`)).text(), 'console.log(1)');
    } finally {
      await s.close();
    }
  });
  test('the /v1 pass-through (development) keeps the console on one origin', async () => {
    const s = await startSocket(api, ssh, { proxyApi: true });
    try {
      const r = await fetch(`${s.url}/v1/auth/web`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: alice.username, password: 'alice password 1' }),
      });
      assert.equal(r.status, 200);
      const c = (r.headers.get('set-cookie') ?? '').split(';')[0]!;
      assert.match(c, /^jmp_session=/);
      const me = await fetch(`${s.url}/v1/me`, { headers: { cookie: c } });
      assert.equal(((await me.json()) as { user: { username: string } }).user.username, alice.username);
    } finally {
      await s.close();
    }
  });
});
