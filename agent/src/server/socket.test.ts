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
    const child = spawn(process.execPath, ['-e', script, socketPath, line], {
      uid,
      gid: uid,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
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
    if (isRoot)
      assert.equal(await exchangeLine(server.path, 'v1 account user=alice\n'), 'v1 allow reason=ok mode=online');
  });

  test(
    'a non-root peer may ping but gets forbidden for every PAM op',
    { skip: !isRoot && 'needs root to run a client as uid 65534' },
    async () => {
      assert.equal(await exchangeAs(65534, server.path, 'v1 ping\n'), 'v1 pong version=test mode=online');
      for (const line of [
        'v1 auth user=alice ticket=x',
        'v1 account user=alice',
        'v1 sudo user=alice runas=root',
        'v1 su user=alice runas=root',
        'v1 session_open user=alice',
        'v1 session_close user=alice',
      ]) {
        seen.length = 0;
        assert.equal(
          await exchangeAs(65534, server.path, line + '\n'),
          'v1 error code=forbidden reason=PAM%20operations%20need%20uid%200',
          line,
        );
        assert.deepEqual(seen, [], 'the handler never saw it');
      }
    },
  );

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
    if (isRoot)
      assert.equal(await exchangeLine(server.path, 'v1 account user=slow\n'), 'v1 allow reason=ok mode=online');
  });

  test('beyond maxConnections a client is turned away at once (busy or closed); the others are served', async () => {
    const idle = await Promise.all(
      [0, 1, 2, 3].map(
        () =>
          new Promise<ReturnType<typeof connect>>((resolve) => {
            const s = connect(server.path, () => resolve(s));
            s.on('error', () => {});
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    const r = await exchangeLine(server.path, 'v1 ping\n').catch((e: Error) => `closed: ${e.message}`);
    assert.match(r, /^v1 error code=internal reason=the%20agent%20is%20busy|^closed: /);
    assert.ok(Date.now() - t0 < 200, 'not queued');
    for (const s of idle) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await askAgent(server.path, { op: 'ping' })).status, 'pong');
  });

  test('the deadline is absolute from accept: a byte every 100 ms does not keep a connection open', async () => {
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const s = connect(server.path);
      const drip = setInterval(() => s.write('v'), 100);
      s.on('close', () => {
        clearInterval(drip);
        resolve();
      });
      s.on('error', () => {});
    });
    const took = Date.now() - started;
    assert.ok(took >= 250 && took < 700, `closed after ${took} ms`);
  });
});

/** A child process as uid that opens n connections and holds them; reports how many the server closed. */
function holdAs(uid: number, socketPath: string, n: number, drip: boolean) {
  const script = `
    const net = require('node:net');
    let open = 0, closed = 0;
    for (let i = 0; i < ${n}; i++) {
      const s = net.connect(process.argv[1]);
      s.on('connect', () => { open++; });
      s.resume(); // read, so the server's close is seen
      s.on('error', () => {});
      s.on('close', () => { closed++; });
      if (${drip}) setInterval(() => { if (!s.destroyed) s.write('v'); }, 300);
    }
    process.stdin.on('data', () => process.stdout.write(JSON.stringify({ open, closed }) + '\\n'));
    process.stdin.on('end', () => process.exit(0));`;
  const child = spawn(process.execPath, ['-e', script, socketPath], {
    uid,
    gid: uid,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return {
    async counts(): Promise<{ open: number; closed: number }> {
      const line = new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
      child.stdin.write('?');
      return JSON.parse(await line) as { open: number; closed: number };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

describe('a local user cannot starve root', { skip: !isRoot && 'needs root to run clients as other uids' }, () => {
  let dir: string;
  let server: SocketServer;
  before(async () => {
    dir = tmpDir();
    server = await startSocketServer({
      path: join(dir, 'agent.sock'),
      maxConnections: 8,
      maxPerUid: 3,
      rootReserve: 2,
      idleTimeoutMs: 5000,
      requestDeadlineMs: 4000,
      peerCred,
      log: silentLog,
      handle: async (req) =>
        req.op === 'ping'
          ? { status: 'pong', version: 'test', mode: 'online' }
          : { status: 'allow', mode: 'online', reason: 'ok' },
    });
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('each uid holds at most maxPerUid connections, the rest are closed at once; root keeps its reserved slots', async () => {
    const a = holdAs(65534, server.path, 40, true);
    const b = holdAs(65533, server.path, 40, false);
    const c = holdAs(65532, server.path, 40, false);
    try {
      // Closed at once: well before the 4 s request deadline.
      const t0 = Date.now();
      let counts = await Promise.all([a.counts(), b.counts(), c.counts()]);
      while (counts.reduce((n, x) => n + x.closed, 0) < 114 && Date.now() - t0 < 3000) {
        await new Promise((r) => setTimeout(r, 100));
        counts = await Promise.all([a.counts(), b.counts(), c.counts()]);
      }
      const [ca, cb, cc] = counts as [
        { open: number; closed: number },
        { open: number; closed: number },
        { open: number; closed: number },
      ];
      // 3 per uid, and 6 (8 - 2 reserved) for all non-root uids together.
      assert.equal(ca.closed + cb.closed + cc.closed, 120 - 6, JSON.stringify({ ca, cb, cc }));
      assert.ok(ca.closed >= 37 && cb.closed >= 37 && cc.closed >= 37, JSON.stringify({ ca, cb, cc }));
      assert.equal(server.active, 6);
      // Root's PAM questions still get slots.
      for (let i = 0; i < 3; i++)
        assert.equal(await exchangeLine(server.path, 'v1 account user=alice\n'), 'v1 allow reason=ok mode=online');
      // Another uid: no slot left; turned away (busy line, or the close came first).
      assert.match(await exchangeAs(65531, server.path, 'v1 ping\n'), /^$|^ERROR E|the%20agent%20is%20busy/);
      // The absolute deadline frees every held connection, the dripping ones too.
      let after = await Promise.all([a.counts(), b.counts(), c.counts()]);
      while (after.some((x) => x.closed < 40) && Date.now() - t0 < 8000) {
        await new Promise((r) => setTimeout(r, 200));
        after = await Promise.all([a.counts(), b.counts(), c.counts()]);
      }
      assert.deepEqual(
        after.map((x) => x.closed),
        [40, 40, 40],
        'every connection was closed by its deadline',
      );
      assert.equal(await exchangeAs(65534, server.path, 'v1 ping\n'), 'v1 pong version=test mode=online');
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    }
  });
});

describe('socket file handling', () => {
  test('a stale socket is replaced; a live one or a regular file is refused', async () => {
    const dir = tmpDir();
    try {
      const path = join(dir, 'agent.sock');
      // stale: a socket file nobody listens on
      // bound by a process that then died: the file stays, nobody listens
      spawnSync(process.execPath, [
        '-e',
        "require('node:net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))",
        path,
      ]);
      assert.ok(lstatSync(path).isSocket());
      const opts = {
        path,
        maxConnections: 4,
        idleTimeoutMs: 1000,
        peerCred,
        log: silentLog,
        handle: async () => ({ status: 'pong' as const, version: 't' }),
      };
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
