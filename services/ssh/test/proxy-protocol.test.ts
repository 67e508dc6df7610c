// jmp-ssh behind an L4 balancer that speaks the PROXY protocol: the client
// address in the header is the one jmp-ssh and jmp-api record; only trusted
// balancers may send it, and they must.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ssh2';
import { ApiClient } from '@jmp/contract';
import { createLogger, loadConfig } from '@jmp/runtime';
import { createRecordings } from '@jmp/recording';
import { startApi, addUser, type TestApi } from '../../api/test/harness.js';
import { createSshServer } from '../src/server/server.js';
import { loadOrCreateHostKey } from '../src/server/host-key.js';
import { createSshListener, type ListenerOptions } from '../src/server/listener.js';
import { sshProxyConfigSpec, type SshConfig } from '../src/config.js';
import { V2_SIGNATURE } from '@jmp/runtime/proxy-protocol';

let api: TestApi;
let alice: { id: number; username: string };
const PASSWORD = 'alice proxy password';

before(async () => {
  api = await startApi();
  alice = await addUser(api.db, { password: PASSWORD });
});
after(async () => {
  await api.close();
});

interface Running {
  port: number;
  seen: string[];
  close(): Promise<void>;
}

/** jmp-ssh as main.ts wires it: its own listener in front of the ssh2 server. */
async function startSsh(opts: ListenerOptions): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'jmp-ssh-proxy-'));
  const config: SshConfig = {
    host: '127.0.0.1',
    port: 0,
    apiUrl: api.url,
    serviceToken: api.serviceToken('ssh'),
    hostKeyPath: join(dir, 'host_key'),
    idleTimeoutSeconds: 600,
    maxSessionsPerUser: 10,
    maxConnections: 100,
    targetPort: 22,
    guardFailOpen: false,
    logLevel: 'silent',
    recording: { dir: join(dir, 'recordings'), spoolDir: join(dir, 'spool') },
  };
  const log = createLogger('jmp-ssh', process.env.JMP_TEST_LOG_LEVEL ?? 'silent');
  const client = new ApiClient({ baseUrl: config.apiUrl, authorization: () => `Bearer ${config.serviceToken}` });
  const server = createSshServer({
    config,
    api: client,
    log,
    hostKey: loadOrCreateHostKey(config.hostKeyPath),
    recordings: createRecordings(config.recording),
  });
  const seen: string[] = [];
  const open = new Set<{ end(): void }>();
  server.on('connection', (c: { end(): void; on(e: 'close', f: () => void): void }, info: { ip: string }) => {
    seen.push(info.ip);
    open.add(c);
    c.on('close', () => open.delete(c));
  });
  const listener = createSshListener(server, log, opts);
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  return {
    port: (listener.address() as net.AddressInfo).port,
    seen,
    close: () =>
      new Promise((r) => {
        for (const c of open) c.end();
        listener.close(() => r());
      }),
  };
}

/** A TCP connection from `from` that first writes `preamble` (a PROXY header, as a balancer would). */
async function connectWith(port: number, preamble: Buffer | string | null, from = '127.0.0.1'): Promise<net.Socket> {
  const sock = net.connect({ port, host: '127.0.0.1', localAddress: from });
  await once(sock, 'connect');
  if (preamble !== null) sock.write(preamble);
  return sock;
}

/** Password login over an established socket; resolves with the error message or 'ok'. */
function loginOver(sock: net.Socket, password = PASSWORD): Promise<string> {
  return new Promise((resolve) => {
    const c = new Client();
    // readyTimeout does not run for a socket handed in: our own bound.
    const t = setTimeout(() => {
      sock.destroy();
      resolve('timed out');
    }, 5000);
    const done = (r: string) => {
      clearTimeout(t);
      resolve(r);
    };
    c.on('keyboard-interactive', (_n, _i, _l, ps, finish) => finish(ps.map(() => password)));
    c.once('ready', () => {
      c.end();
      done('ok');
    });
    c.once('error', (err) => done(err.message));
    c.once('close', () => done('closed'));
    c.connect({ sock, username: alice.username, tryKeyboard: true });
  });
}

/** What the peer sees: the SSH banner, or '' when the connection is closed without one. */
function banner(sock: net.Socket, ms = 3000): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const t = setTimeout(() => {
      sock.destroy();
      resolve(got ? got : 'still open');
    }, ms);
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    sock.once('close', () => {
      clearTimeout(t);
      resolve(got);
    });
    sock.on('error', () => {});
  });
}

async function lastLoginSource(): Promise<unknown> {
  const row = await api
    .db('audit_events')
    .where({ action: 'auth.login', target: alice.username })
    .orderBy('id', 'desc')
    .first();
  const data = typeof row?.data === 'string' ? JSON.parse(row.data) : row?.data;
  return data?.source;
}

function v2Header(src6: string, sport: number): Buffer {
  const b = Buffer.alloc(16 + 36);
  V2_SIGNATURE.copy(b, 0);
  b[12] = 0x21;
  b[13] = 0x21;
  b.writeUInt16BE(36, 14);
  const groups = src6.split(':').map((g) => parseInt(g, 16));
  groups.forEach((g, i) => b.writeUInt16BE(g, 16 + 2 * i));
  b.writeUInt16BE(1, 16 + 30); // destination ::1
  b.writeUInt16BE(sport, 16 + 32);
  b.writeUInt16BE(2200, 16 + 34);
  return b;
}

describe('PROXY protocol on, 127.0.0.1 is the trusted balancer', () => {
  let ssh: Running;
  before(async () => {
    ssh = await startSsh({ proxyProtocol: true, proxyTrusted: ['127.0.0.1'], headerTimeoutMs: 500 });
  });
  after(async () => {
    await ssh.close();
  });

  test("v1: the login is recorded with the client address of the header, not the balancer's", async () => {
    const sock = await connectWith(ssh.port, 'PROXY TCP4 203.0.113.9 127.0.0.1 40001 2200\r\n');
    assert.equal(await loginOver(sock), 'ok');
    assert.equal(ssh.seen.at(-1), '203.0.113.9');
    assert.equal(await lastLoginSource(), '203.0.113.9');
  });

  test('v2: an IPv6 client address reaches the login record', async () => {
    const sock = await connectWith(ssh.port, v2Header('2001:db8:0:0:0:0:0:77', 40002));
    assert.equal(await loginOver(sock), 'ok');
    assert.equal(ssh.seen.at(-1), '2001:db8::77');
    assert.equal(await lastLoginSource(), '2001:db8::77');
  });

  test('a health check (v1 UNKNOWN) gets the banner and is recorded as the balancer', async () => {
    const sock = await connectWith(ssh.port, 'PROXY UNKNOWN\r\n');
    assert.equal(await loginOver(sock), 'ok');
    assert.equal(await lastLoginSource(), '127.0.0.1');
  });

  test('an untrusted peer sending a PROXY header is refused before SSH starts', async () => {
    const before = ssh.seen.length;
    const sock = await connectWith(ssh.port, 'PROXY TCP4 198.51.100.1 127.0.0.1 40003 2200\r\n', '127.0.0.5');
    assert.equal(await banner(sock), '');
    const plain = await connectWith(ssh.port, null, '127.0.0.5');
    assert.equal(await banner(plain), '', 'plain SSH from an untrusted peer bypasses the balancer: refused too');
    assert.equal(ssh.seen.length, before);
  });

  test('the trusted balancer without a valid header is closed: plain SSH, garbage, silence', async () => {
    const before = ssh.seen.length;
    assert.notEqual(await loginOver(await connectWith(ssh.port, null)), 'ok');
    assert.equal(await banner(await connectWith(ssh.port, null)), '', 'no header within the timeout');
    assert.equal(await banner(await connectWith(ssh.port, 'PROXY TCP4 203.0.113.9 nonsense 1 2\r\n')), '');
    assert.equal(await banner(await connectWith(ssh.port, 'PROXY TCP4 203.0.113.9')), '', 'a partial header times out');
    assert.equal(ssh.seen.length, before);
  });
});

describe('PROXY protocol off (the default)', () => {
  let ssh: Running;
  before(async () => {
    ssh = await startSsh({ proxyProtocol: false, proxyTrusted: [] });
  });
  after(async () => {
    await ssh.close();
  });

  test('the peer address is recorded and a PROXY header is not believed', async () => {
    assert.equal(await loginOver(await connectWith(ssh.port, null, '127.0.0.6')), 'ok');
    assert.equal(await lastLoginSource(), '127.0.0.6');
    const spoof = await loginOver(
      await connectWith(ssh.port, 'PROXY TCP4 203.0.113.66 127.0.0.1 1 2\r\n', '127.0.0.6'),
    );
    assert.notEqual(spoof, 'ok');
    assert.equal(await lastLoginSource(), '127.0.0.6');
  });
});

test('on without any trusted balancer is a configuration error', () => {
  const server = { injectSocket() {} } as unknown as Parameters<typeof createSshListener>[0];
  assert.throws(
    () => createSshListener(server, createLogger('t', 'silent'), { proxyProtocol: true, proxyTrusted: [] }),
    /no balancer address is trusted/,
  );
});

test('JMP_SSH_PROXY_PROTOCOL and JMP_SSH_PROXY_TRUSTED are parsed strictly', () => {
  assert.deepEqual(loadConfig(sshProxyConfigSpec, {}), { proxyProtocol: false, proxyTrusted: [] });
  assert.deepEqual(
    loadConfig(sshProxyConfigSpec, {
      JMP_SSH_PROXY_PROTOCOL: 'on',
      JMP_SSH_PROXY_TRUSTED: '10.0.1.5, 10.0.2.0/24,fd00::/8',
    }),
    { proxyProtocol: true, proxyTrusted: ['10.0.1.5', '10.0.2.0/24', 'fd00::/8'] },
  );
  assert.throws(() => loadConfig(sshProxyConfigSpec, { JMP_SSH_PROXY_PROTOCOL: 'maybe' }), /JMP_SSH_PROXY_PROTOCOL/);
  assert.throws(
    () => loadConfig(sshProxyConfigSpec, { JMP_SSH_PROXY_TRUSTED: '10.0.1.5,nginx' }),
    /JMP_SSH_PROXY_TRUSTED: "nginx" is not an IP address/,
  );
});
