import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadAddon, peerCred } from '../src/index.js';

function listen(server: Server, ...args: unknown[]): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    (server.listen as (...a: unknown[]) => void)(...args, () => resolve());
  });
}

function connected(socket: Socket): Promise<Socket> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => resolve(socket));
  });
}

describe('peerCred', () => {
  let dir: string;
  before(() => {
    loadAddon();
    dir = mkdtempSync(join(tmpdir(), 'jmp-native-peercred-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('both ends of a unix-socket connection see this process', async () => {
    const path = join(dir, 's.sock');
    const accepted: Socket[] = [];
    const server = createServer((s) => accepted.push(s));
    await listen(server, path);
    try {
      const client = await connected(createConnection(path));
      while (accepted.length === 0) await new Promise((r) => setImmediate(r));
      const serverSide = accepted[0]!;
      const expected = { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() };
      assert.deepEqual(peerCred(serverSide), expected);
      assert.deepEqual(peerCred(client), expected);
      client.destroy();
      serverSide.destroy();
      assert.throws(() => peerCred(serverSide), /destroyed or not connected/);
    } finally {
      server.close();
    }
  });

  test('a TCP socket throws', async () => {
    const accepted: Socket[] = [];
    const server = createServer((s) => accepted.push(s));
    await listen(server, 0, '127.0.0.1');
    try {
      const { port } = server.address() as AddressInfo;
      const client = await connected(createConnection(port, '127.0.0.1'));
      assert.throws(() => peerCred(client), /not a unix-domain socket/);
      client.destroy();
    } finally {
      for (const s of accepted) s.destroy();
      server.close();
    }
  });

  test('a socket that never connected, and non-sockets, throw', () => {
    assert.throws(() => peerCred(new Socket()), /destroyed or not connected/);
    assert.throws(() => peerCred({} as Socket), TypeError);
  });

  test('the addon checks the fd itself', () => {
    const addon = loadAddon();
    assert.throws(() => addon.peerCredFd(-1), TypeError);
    assert.throws(() => addon.peerCredFd(1.5), TypeError);
    assert.throws(() => addon.peerCredFd('3' as unknown as number), TypeError);
    // fd 0 under the test runner is not a connected unix socket, or not a socket at all.
    assert.throws(() => addon.peerCredFd(987654), /getsockname/);
  });
});
