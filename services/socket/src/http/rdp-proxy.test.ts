import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { rdpUpgradeProxy } from './rdp-proxy.js';

const listen = async (s: Server) => {
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return (s.address() as AddressInfo).port;
};

/** Sends an upgrade request through `port`, then `after`; resolves with all it got back once `want` is seen. */
function upgrade(port: number, path: string, after: string, want: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(port, '127.0.0.1', () =>
      c.write(`GET ${path} HTTP/1.1\r\nHost: jmp\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n${after}`),
    );
    let got = '';
    c.on('data', (d) => {
      got += d.toString();
      if (want.test(got)) {
        c.destroy();
        resolve(got);
      }
    });
    c.on('error', reject);
    c.on('close', () => resolve(got));
  });
}

test('an /rdp/ upgrade reaches jmp-rdp with its path, query and headers, and bytes flow both ways', async () => {
  const seen: Array<{ url?: string; upgrade?: string; xff?: string }> = [];
  const rdp = createServer();
  rdp.on('upgrade', (req, socket, head: Buffer) => {
    seen.push({ url: req.url, upgrade: req.headers.upgrade, xff: req.headers['x-forwarded-for'] as string });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    // Bytes sent right behind the request arrive as `head`, later ones as data.
    if (head.length) socket.write(`echo:${head.toString()}`);
    socket.on('data', (d) => socket.write(`echo:${d.toString()}`));
  });
  const front = createServer();
  const rdpPort = await listen(rdp);
  front.on('upgrade', rdpUpgradeProxy(`http://127.0.0.1:${rdpPort}`));
  const frontPort = await listen(front);
  try {
    const got = await upgrade(frontPort, '/rdp/connect?token=abc', 'ping', /echo:ping/);
    assert.match(got, /^HTTP\/1\.1 101 /);
    assert.deepEqual(seen, [{ url: '/rdp/connect?token=abc', upgrade: 'websocket', xff: '127.0.0.1' }]);
  } finally {
    front.close();
    rdp.close();
  }
});

test('jmp-rdp not listening: the page gets 502 and the socket closes', async () => {
  const gone = createServer();
  const gonePort = await listen(gone);
  gone.close();
  const front = createServer();
  front.on('upgrade', rdpUpgradeProxy(`http://127.0.0.1:${gonePort}`));
  const frontPort = await listen(front);
  try {
    assert.match(await upgrade(frontPort, '/rdp/connect', '', /502/), /^HTTP\/1\.1 502 /);
  } finally {
    front.close();
  }
});
