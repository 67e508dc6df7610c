// Routing of packaging/nginx/nginx.conf through a real nginx: /v1 to jmp-api,
// /socket.io (polling and the websocket upgrade) to jmp-socket, the console's
// static files with a single-page fallback, http → https, and what is not
// public. jmp-socket is still being written: a plain HTTP server stands at its
// address and records what reaches it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { once } from 'node:events';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startApi, type TestApi } from '../../services/api/test/harness.js';
import { freePort } from '../bench/lib/process.js';
import { startNginx, type RunningNginx } from './nginx.js';
import { testNginxConfig, PRODUCTION_CONFIG } from './nginx-config.js';

let api: TestApi, nginx: RunningNginx, dir: string, httpPort: number, httpsPort: number, ca: string;
const socketSeen: Array<{ url: string; upgrade?: string; connection?: string; forwardedProto?: string }> = [];
let socketStandIn: http.Server;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jmp-routing-'));
  chmodSync(dir, 0o755);
  api = await startApi();
  socketStandIn = http.createServer((req, res) => {
    socketSeen.push({
      url: req.url ?? '',
      upgrade: req.headers.upgrade,
      connection: req.headers.connection,
      forwardedProto: req.headers['x-forwarded-proto'] as string,
    });
    res.end('socket stand-in');
  });
  socketStandIn.on('upgrade', (req, socket) => {
    socketSeen.push({ url: req.url ?? '', upgrade: req.headers.upgrade, connection: req.headers.connection });
    socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  });
  socketStandIn.listen(0, '127.0.0.1');
  await once(socketStandIn, 'listening');
  const webRoot = join(dir, 'web');
  mkdirSync(join(webRoot, 'assets'), { recursive: true });
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>jmp console</title>');
  writeFileSync(join(webRoot, 'assets', 'app.js'), 'console.log("jmp")');
  httpPort = await freePort();
  httpsPort = await freePort();
  nginx = await startNginx(join(dir, 'nginx'), {
    ports: { http: httpPort, https: httpsPort, ssh: await freePort() },
    webRoot,
    upstreams: {
      jmp_api: [new URL(api.url).host],
      jmp_socket: [`127.0.0.1:${(socketStandIn.address() as AddressInfo).port}`],
      jmp_ssh: [`127.0.0.1:${await freePort()}`],
      jmp_rdp: [`127.0.0.1:${(socketStandIn.address() as AddressInfo).port}`],
    },
  });
  ca = readFileSync(nginx.caCert, 'utf8');
});

after(async () => {
  await nginx?.stop();
  socketStandIn?.close();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port: httpsPort, path, ca, headers }, (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

test('/v1 reaches jmp-api over TLS', async () => {
  const r = await get('/v1/openapi.json');
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.body).openapi?.startsWith('3'), true);
  assert.match(String(r.headers['strict-transport-security']), /max-age=/);
});

test('an API error answer passes through unchanged', async () => {
  const r = await get('/v1/access/hosts?user=nobody');
  assert.equal(r.status, 401);
  assert.equal(typeof JSON.parse(r.body).error?.message, 'string');
});

test('/healthz and /metrics are not public', async () => {
  assert.equal((await get('/healthz')).status, 404);
  assert.equal((await get('/metrics')).status, 404);
});

test('/socket.io polling reaches jmp-socket with the forwarded scheme', async () => {
  const r = await get('/socket.io/?EIO=4&transport=polling');
  assert.equal(r.body, 'socket stand-in');
  assert.deepEqual(socketSeen.at(-1), {
    url: '/socket.io/?EIO=4&transport=polling',
    upgrade: undefined,
    connection: 'close',
    forwardedProto: 'https',
  });
});

test('/socket.io websocket upgrade is passed on', async () => {
  const req = https.request({
    host: '127.0.0.1',
    port: httpsPort,
    path: '/socket.io/?EIO=4&transport=websocket',
    ca,
    headers: {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    },
  });
  req.end();
  const [res, socket] = (await once(req, 'upgrade')) as [http.IncomingMessage, import('node:net').Socket];
  socket.destroy();
  assert.equal(res.statusCode, 101);
  assert.deepEqual(socketSeen.at(-1), {
    url: '/socket.io/?EIO=4&transport=websocket',
    upgrade: 'websocket',
    connection: 'upgrade',
  });
});

test('/rdp/ passes the desktop token on and logs the path without it', async () => {
  const token = 'tok' + 'x'.repeat(40);
  const r = await get(`/rdp/connect?token=${token}`);
  assert.equal(r.body, 'socket stand-in');
  assert.equal(socketSeen.at(-1)?.url, `/rdp/connect?token=${token}`);
  const logs = readdirSync(nginx.dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => readFileSync(join(nginx.dir, f), 'utf8'))
    .join('');
  assert.match(logs, /"GET \/rdp\/connect"/);
  assert.ok(!logs.includes(token), 'the token is in an nginx log');
});

test('the console: files, single-page fallback, index not cached', async () => {
  const js = await get('/assets/app.js');
  assert.equal(js.status, 200);
  assert.equal(js.body, 'console.log("jmp")');
  assert.match(String(js.headers['content-type']), /javascript/);
  for (const path of ['/', '/hosts/42', '/sessions']) {
    const r = await get(path);
    assert.equal(r.status, 200, path);
    assert.match(r.body, /jmp console/, path);
    assert.equal(r.headers['cache-control'], 'no-cache', path);
  }
});

test('plain http redirects to https', async () => {
  const r = await new Promise<http.IncomingMessage>((resolve, reject) =>
    http.get({ host: '127.0.0.1', port: httpPort, path: '/v1/openapi.json' }, resolve).on('error', reject),
  );
  r.resume();
  assert.equal(r.statusCode, 301);
  assert.equal(r.headers.location, `https://127.0.0.1/v1/openapi.json`);
});

test('the test copy keeps the routing and names no production path or address', () => {
  const layout = {
    dir: '/t',
    ports: { http: 1, https: 2, ssh: 3 },
    upstreams: { jmp_api: ['127.0.0.1:10'], jmp_socket: ['127.0.0.1:11'], jmp_ssh: ['127.0.0.1:12', '127.0.0.1:13'] },
    tls: { cert: '/t/c', key: '/t/k' },
    webRoot: '/t/web',
  };
  const conf = testNginxConfig(layout);
  assert.match(
    conf,
    /upstream jmp_ssh \{\s*least_conn;\s*server 127\.0\.0\.1:12 max_fails=1 fail_timeout=10s;\s*server 127\.0\.0\.1:13 max_fails=1 fail_timeout=10s;\s*\}/,
  );
  assert.match(conf, /location = \/v1\/auth\/ssh \{[^}]*non_idempotent/);
  assert.match(conf, /listen 127\.0\.0\.1:3;/);
  assert.throws(
    () =>
      testNginxConfig(
        layout,
        readFileSync(PRODUCTION_CONFIG, 'utf8').replace('upstream jmp_socket', 'upstream jmp_other'),
      ),
    /no test servers for upstream jmp_other/,
  );
  assert.throws(
    () => testNginxConfig(layout, readFileSync(PRODUCTION_CONFIG, 'utf8') + '\ninclude /etc/jmp/extra.conf;\n'),
    /"\/etc\/jmp" is still in the generated file/,
  );
});
