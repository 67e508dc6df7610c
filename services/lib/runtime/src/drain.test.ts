// Graceful drain against real sockets: the port closes at once, in-flight
// work finishes, the bound ends what does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { drain, drainOnSignals, httpDrainable, listenerDrainable, trackConnections } from './drain.js';
import { createLogger } from './log.js';

const log = createLogger('drain-test', 'silent');
/** The port closes on the event-loop turn after the signal (see closeAfterAccepting). */
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

function connectError(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(null);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

function get(port: number, agent?: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

test('http: the port closes at once, the request in flight completes, cleanup runs', async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  const server = http.createServer((_req, res) => {
    void held.then(() => res.end('finished'));
  });
  const port = await listen(server);
  const inFlight = get(port);
  await new Promise((r) => setTimeout(r, 50));
  let cleaned = false;
  const result = drain(
    httpDrainable(server, async () => {
      cleaned = true;
    }),
    { log, graceMs: 5000 },
  );
  await nextTurn();
  assert.equal(await connectError(port), 'ECONNREFUSED');
  release();
  assert.deepEqual(await inFlight, { status: 200, body: 'finished' });
  assert.equal(await result, 'drained');
  assert.equal(cleaned, true);
});

test('http: an idle keep-alive connection does not hold the drain', async () => {
  const server = http.createServer((_req, res) => res.end('ok'));
  const port = await listen(server);
  const agent = new http.Agent({ keepAlive: true });
  assert.equal((await get(port, agent)).status, 200);
  const start = Date.now();
  assert.equal(await drain(httpDrainable(server), { log, graceMs: 5000 }), 'drained');
  assert.ok(Date.now() - start < 1000, `took ${Date.now() - start} ms`);
  agent.destroy();
});

test('http: past the bound the request still in flight is ended', async () => {
  const server = http.createServer(() => {
    /* never answers */
  });
  const port = await listen(server);
  const inFlight = get(port).then(
    () => 'answered',
    (e: NodeJS.ErrnoException) => e.code,
  );
  await new Promise((r) => setTimeout(r, 50));
  const start = Date.now();
  assert.equal(await drain(httpDrainable(server), { log, graceMs: 200 }), 'forced');
  assert.equal(await inFlight, 'ECONNRESET');
  assert.ok(Date.now() - start < 2000, `took ${Date.now() - start} ms`);
});

test('listener: waits for open connections, then forces them at the bound', async () => {
  const server = net.createServer((s) => {
    s.on('data', (d) => s.write(d));
  });
  const open = trackConnections<net.Socket>(server);
  const port = await listen(server);
  const client = net.connect(port, '127.0.0.1');
  await once(client, 'connect');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(open.size, 1);
  const closed = once(client, 'close');
  const result = drain(listenerDrainable(server, open), { log, graceMs: 300 });
  await nextTurn();
  assert.equal(await connectError(port), 'ECONNREFUSED');
  // Still served while draining.
  client.write('ping');
  const [echo] = await once(client, 'data');
  assert.equal(String(echo), 'ping');
  assert.equal(await result, 'forced');
  await closed;
  for (let i = 0; i < 50 && open.size; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(open.size, 0);
});

test('listener: a slow cleanup is bounded', async () => {
  const server = net.createServer();
  await listen(server);
  const start = Date.now();
  const result = await drain(
    listenerDrainable(
      server,
      new Set(),
      () =>
        new Promise(() => {
          /* hangs */
        }),
    ),
    { log, graceMs: 1000, cleanupMs: 200 },
  );
  assert.equal(result, 'forced');
  assert.ok(Date.now() - start < 1500);
});

test('signals: the first SIGTERM drains and exits 0, a second one exits 1 at once', async () => {
  const before = { term: process.listeners('SIGTERM'), int: process.listeners('SIGINT') };
  const codes: number[] = [];
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  let drained = false;
  drainOnSignals(
    {
      stopAccepting: () => held,
      inFlight: () => 1,
      forceClose: () => {},
      cleanup: async () => {
        drained = true;
      },
    },
    { log, graceMs: 5000 },
    (c) => codes.push(c),
  );
  try {
    process.emit('SIGTERM', 'SIGTERM');
    await nextTurn();
    assert.deepEqual(codes, []);
    process.emit('SIGINT', 'SIGINT');
    assert.deepEqual(codes, [1]);
    release();
    for (let i = 0; i < 50 && codes.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(codes, [1, 0]);
    assert.equal(drained, true);
  } finally {
    for (const l of process.listeners('SIGTERM')) if (!before.term.includes(l)) process.off('SIGTERM', l);
    for (const l of process.listeners('SIGINT')) if (!before.int.includes(l)) process.off('SIGINT', l);
  }
});
