// The socket server on real unix sockets with real SO_PEERCRED: who may ask
// what, bounded input, garbage, idle connections, stale sockets.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { peerCred } from '@jmp/native';
import { startSocketServer, type SocketServer } from './socket.js';
import { exchangeLine, askAgent } from '../cli/client.js';
import { silentLog, tmpDir } from '../../test/fixtures.js';

const isRoot = process.getuid?.() === 0;

/** Runs a one-line exchange in a child process as another uid. */
function exchangeAs(uid: number, socketPath: string, line: string): Promise<string> {
  const script = `
    const s = require('node:net').connect(process.argv[1]);
    let out = '';
    s.on('connect', () => s.write(process.argv[2]));
    s.on('data', (d) => { out += d; if (out.includes('\\n')) { process.stdout.write(out); s.destroy(); } });
    s.on('error', (e) => { process.stdout.write('ERROR ' + e.code); });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, socketPath, line], { uid, gid: uid, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve(out.trim()));
  });
}

describe('socket server', () => {
  let dir: string;
  let server: SocketServer;
  const seen: string[] = [];
  before(async () => {
    dir = tmpDir();
    server = await startSocketServer({
      path: join(dir, 'agent.sock'),
      maxConnections: 4,
      idleTimeoutMs: 300,
      peerCred,
      log: silentLog,
      handle: async (req, peer) => {
        seen.push(`${req.op}:${peer.uid}`);
        if (req.op === 'ping') return { status: 'pong', version: 'test', mode: 'online' };
        if (req.op === 'account' && req.user === 'boom') throw new Error('handler exploded');
        if (req.op === 'account' && req.user === 'slow') await new Promise((r) => setTimeout(r, 600));
        return { status: 'allow', reason: 'ok', mode: 'online' };
      },
    });
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the socket is mode 0666 and answers ping and PAM ops to root', async () => {
    assert.equal(lstatSync(server.path).mode & 0o777, 0o666);
    assert.equal(await exchangeLine(server.path, 'v1 ping\n'), 'v1 pong version=test mode=online');
    if (isRoot) assert.equal(await exchangeLine(server.path, 'v1 account user=alice\n'), 'v1 allow reason=ok mode=online');
  });

  test('a non-root peer may ping but gets forbidden for every PAM op', { skip: !isRoot && 'needs root to run a client as uid 65534' }, async () => {
    assert.equal(await exchangeAs(65534, server.path, 'v1 ping\n'), 'v1 pong version=test mode=online');
    for (const line of ['v1 auth user=alice ticket=x', 'v1 account user=alice', 'v1 sudo user=alice runas=root', 'v1 su user=alice runas=root', 'v1 session_open user=alice', 'v1 session_close user=alice']) {
      seen.length = 0;
      assert.equal(await exchangeAs(65534, server.path, line + '\n'), 'v1 error code=forbidden reason=PAM%20operations%20need%20uid%200', line);
      assert.deepEqual(seen, [], 'the handler never saw it');
    }
  });

  test('an oversized line is answered too_long', async () => {
    const r = await exchangeLine(server.path, `v1 auth user=alice ticket=${'a'.repeat(9000)}\n`);
    assert.match(r, /^v1 error code=too_long /);
    const r2 = await exchangeLine(server.path, 'x'.repeat(20_000)); // no newline at all
    assert.match(r2, /^v1 error code=too_long /);
  });

  test('garbage gets an error line, never a crash', async () => {
    const cases: [string | Buffer, RegExp][] = [
      ['hello\n', /^v1 error code=bad_request /],
      ['v2 ping\n', /^v1 error code=bad_request /],
      ['v1 reboot\n', /^v1 error code=unknown_op /],
      ['v1 account\n', /^v1 error code=bad_request reason=op%20%22account%22%20requires/],
      ['v1 ping\r\n', /^v1 error code=bad_request /],
      ['v1 account user=a%00b\n', /^v1 error code=bad_request /],
      [Buffer.from([0xff, 0xfe, 0x0a]), /^v1 error code=bad_request /],
      ['v1 ping\nv1 ping\n', /^v1 error code=bad_request reason=one%20request/],
      ['v1 account user=boom\n', /^v1 error code=internal /],
    ];
    for (const [line, want] of cases) assert.match(await exchangeLine(server.path, line), want, String(line));
    // half a line, then the client closes its side
    const r = await new Promise<string>((resolve) => {
      const s = connect(server.path, () => s.end('v1 pi'));
      let out = '';
      s.on('data', (d) => (out += d));
      s.on('close', () => resolve(out));
    });
    assert.match(r, /^v1 error code=bad_request reason=the%20connection%20ended/);
    assert.equal(await exchangeLine(server.path, 'v1 ping\n'), 'v1 pong version=test mode=online', 'still serving');
  });

  test('an idle connection is closed after the idle timeout; a slow decision is not cut off', async () => {
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const s = connect(server.path);
      s.on('close', () => resolve());
      s.on('error', () => {});
    });
    const took = Date.now() - started;
    assert.ok(took >= 250 && took < 2000, `closed after ${took} ms`);
    if (isRoot) assert.equal(await exchangeLine(server.path, 'v1 account user=slow\n'), 'v1 allow reason=ok mode=online');
  });

  test('beyond maxConnections a client gets a busy error; the others are served', async () => {
    const idle = await Promise.all([0, 1, 2, 3].map(() => new Promise<ReturnType<typeof connect>>((resolve) => {
      const s = connect(server.path, () => resolve(s));
      s.on('error', () => {});
    })));
    await new Promise((r) => setTimeout(r, 50));
    assert.match(await exchangeLine(server.path, 'v1 ping\n'), /^v1 error code=internal reason=the%20agent%20is%20busy/);
    for (const s of idle) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await askAgent(server.path, { op: 'ping' })).status, 'pong');
  });
});

describe('socket file handling', () => {
  test('a stale socket is replaced; a live one or a regular file is refused', async () => {
    const dir = tmpDir();
    try {
      const path = join(dir, 'agent.sock');
      // stale: a socket file nobody listens on
      // bound by a process that then died: the file stays, nobody listens
      spawnSync(process.execPath, ['-e', "require('node:net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))", path]);
      assert.ok(lstatSync(path).isSocket());
      const opts = { path, maxConnections: 4, idleTimeoutMs: 1000, peerCred, log: silentLog, handle: async () => ({ status: 'pong' as const, version: 't' }) };
      const s1 = await startSocketServer(opts);
      assert.match(await exchangeLine(path, 'v1 ping\n'), /^v1 pong/);
      await assert.rejects(startSocketServer(opts), /another process answers/);
      await s1.close();
      assert.throws(() => lstatSync(path), /ENOENT/, 'removed at close');
      writeFileSync(path, 'not a socket');
      await assert.rejects(startSocketServer(opts), /is not a socket/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
