// jmp-ssh behind the nginx of packaging/nginx/nginx.conf with the PROXY
// protocol: a person's login through the balancer is logged and audited with
// their own address, not nginx's; connections that bypass the balancer are
// refused, whether or not they claim an address.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';
import { createDb } from '../../services/api/src/db/knex.js';
import { startCluster, type Cluster, type ServiceProcess } from './cluster.js';
import { PRODUCTION_CONFIG } from './nginx-config.js';

let c: Cluster;
before(async () => {
  c = await startCluster({ drainSeconds: 2 });
});
after(async () => {
  await c?.close();
});

/** Public-key login from `from` (a loopback address of the person's choosing); resolves once logged in. */
function loginFrom(port: number, from: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once('ready', () => {
      client.end();
      resolve();
    });
    client.once('error', reject);
    client.connect({
      host: '127.0.0.1',
      port,
      localAddress: from,
      username: c.user.username,
      privateKey: c.user.privateKey,
      readyTimeout: 15_000,
    });
  });
}

/** What a raw connection from `from` that writes `preamble` gets back before it is closed. */
async function answer(port: number, from: string, preamble: string): Promise<string> {
  const s = net.connect({ port, host: '127.0.0.1', localAddress: from });
  await once(s, 'connect');
  s.write(preamble);
  return new Promise((resolve) => {
    let got = '';
    const t = setTimeout(() => {
      s.destroy();
      resolve(`still open after 8 s: ${got}`);
    }, 8000);
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    s.on('error', () => {});
    s.once('close', () => {
      clearTimeout(t);
      resolve(got);
    });
  });
}

async function waitForLine(
  p: ServiceProcess[],
  pred: (l: Record<string, unknown>) => boolean,
  ms = 10_000,
): Promise<Record<string, unknown>> {
  const end = Date.now() + ms;
  for (;;) {
    const line = p.flatMap((s) => s.lines).find(pred);
    if (line) return line;
    if (Date.now() > end)
      throw new Error(`no such log line within ${ms} ms; last: ${JSON.stringify(p.flatMap((s) => s.lines.slice(-3)))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the production config sends the PROXY protocol to jmp-ssh', () => {
  const stream = /stream \{[\s\S]*listen 2200;[\s\S]*?\}/.exec(readFileSync(PRODUCTION_CONFIG, 'utf8'))?.[0] ?? '';
  assert.match(stream, /^\s*proxy_protocol on;/m);
});

test("a login through nginx is logged and audited with the person's address, not nginx's", async () => {
  await loginFrom(c.sshPort, '127.0.0.7');
  const logged = await waitForLine(c.sshs, (l) => l.msg === 'logged in to jmp' && l.user === c.user.username);
  assert.equal(logged.source, '127.0.0.7');
  const db = createDb(c.databaseUrl, { min: 0, max: 1 });
  try {
    const row = await db('audit_events')
      .where({ action: 'auth.login', target: c.user.username })
      .orderBy('id', 'desc')
      .first();
    const data = typeof row?.data === 'string' ? JSON.parse(row.data) : row?.data;
    assert.equal(data?.source, '127.0.0.7');
  } finally {
    await db.destroy();
  }
});

test('a peer that is not the balancer is refused, with or without a PROXY header', async () => {
  const [ssh] = c.sshs as [ServiceProcess];
  assert.equal(await answer(ssh.port, '127.0.0.5', 'PROXY TCP4 198.51.100.1 127.0.0.1 40000 2200\r\n'), '');
  assert.equal(await answer(ssh.port, '127.0.0.5', 'SSH-2.0-OpenSSH_9.2\r\n'), '');
  const refused = await waitForLine(c.sshs, (l) =>
    String(l.msg).startsWith('connection refused: not from a trusted balancer'),
  );
  assert.equal(refused.peer, '127.0.0.5');
});

test("the balancer's own address without a header is closed", async () => {
  const [ssh] = c.sshs as [ServiceProcess];
  assert.equal(await answer(ssh.port, '127.0.0.1', 'SSH-2.0-OpenSSH_9.2\r\n'), '');
  await waitForLine(c.sshs, (l) => String(l.msg).startsWith('connection refused: no valid PROXY protocol header'));
});
