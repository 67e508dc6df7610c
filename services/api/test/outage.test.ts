// Postgres goes away (a TCP proxy in front of the real one is cut): requests
// get 503 and one clear log line; when it returns the service recovers alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startApi, createTestDatabase, ADMIN_DB_URL, type TestApi } from './harness.js';

class CutProxy {
  private server: net.Server | null = null;
  private sockets = new Set<net.Socket>();
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}
  async up(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', () => r()));
    this.port = (this.server!.address() as net.AddressInfo).port;
  }
  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server!.close(r));
  }
}

let api: TestApi, proxy: CutProxy, drop: () => Promise<void>;
const lines: any[] = [];
before(async () => {
  const db = await createTestDatabase();
  drop = db.drop;
  const target = new URL(ADMIN_DB_URL);
  proxy = new CutProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await proxy.up();
  const viaProxy = new URL(db.url);
  viaProxy.port = String(proxy.port);
  api = await startApi({ databaseUrl: viaProxy.toString() });
  api.ctx.log = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _e, cb) {
        lines.push(JSON.parse(String(chunk)));
        cb();
      },
    }),
  );
});
after(async () => {
  await api.close();
  await proxy.down().catch(() => {});
  await drop();
});

const ticket = () =>
  api.call('POST', '/v1/tickets', {
    auth: `Bearer ${api.serviceToken('ssh')}`,
    body: { user: 'alice', host: 'nowhere' },
  });

test('503 while the database is down, one log line, recovery without a restart', async () => {
  assert.equal((await ticket()).status, 404, 'database reachable: unknown host');

  await proxy.down();
  const t0 = Date.now();
  for (let i = 0; i < 5; i++) {
    const r = await ticket();
    assert.equal(r.status, 503);
    assert.equal(r.body.error.code, 'unavailable');
    assert.match(r.body.error.message, /database is unavailable/);
  }
  assert.ok(Date.now() - t0 < 20_000, 'a down database answers fast, not after long hangs');
  const health = await api.call('GET', '/healthz');
  assert.equal(health.status, 503);
  assert.equal(health.body.db, false);
  assert.equal(
    lines.filter((l) => /database unavailable/.test(l.msg)).length,
    1,
    'exactly one log line for the outage',
  );

  await proxy.up();
  let status = 0;
  for (let i = 0; i < 50 && status !== 404; i++) {
    status = (await ticket()).status;
    if (status !== 404) await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(status, 404, 'recovered by itself');
  for (let i = 0; i < 20 && !lines.some((l) => l.msg === 'database is back'); i++)
    await new Promise((r) => setTimeout(r, 200));
  assert.equal(lines.filter((l) => l.msg === 'database is back').length, 1);
  assert.equal((await api.call('GET', '/healthz')).status, 200);
});
