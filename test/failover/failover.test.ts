// Failover behind nginx: two jmp-api and two jmp-ssh on loopback behind the
// balancer of packaging/nginx/nginx.conf; 200 logins through its port 2200
// (a few at a time, no retries) while one jmp-api and one jmp-ssh are killed
// in the middle. No login may fail.
//
// "Killed" means:
//   SIGTERM (what systemd, a deploy or an operator sends): the process drains:
//     its port closes at once, nginx's connect to it is refused and goes to
//     the other instance (proxy_next_upstream, max_fails), requests and SSH
//     connections in flight finish, then it exits 0.
//   SIGKILL of jmp-api: requests in flight on it are cut; nginx sends them to
//     the other instance again (GET always, POST /v1/auth/ssh by its own
//     `non_idempotent` rule), so logins still succeed.
//   SIGKILL of jmp-ssh is not tested: the SSH connections it holds are the
//     people's sessions and die with it; only the client could reconnect.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster, type ServiceProcess } from './cluster.js';
import { runLogins } from './logins.js';
import { readHttpLog, readStreamLog, servedBy } from './nginx-logs.js';
import { login, shell } from '../../services/ssh/test/jmp-ssh.js';
import { startProxyRelay } from './proxy-relay.js';

const TOTAL = Number(process.env.JMP_FAILOVER_LOGINS ?? 200);
const PARALLEL = 4;

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_r, j) => {
        t = setTimeout(() => j(new Error(`${what} did not happen within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(t);
  }
}

async function waitForLog(p: ServiceProcess, msg: string, ms = 10_000): Promise<Record<string, unknown>> {
  const end = Date.now() + ms;
  for (;;) {
    const line = p.lines.find((l) => l.msg === msg);
    if (line) return line;
    if (Date.now() > end)
      throw new Error(
        `${p.name} did not log "${msg}" within ${ms} ms; last lines: ${JSON.stringify(p.lines.slice(-5))}`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
}

function scenario(apiSignal: 'SIGTERM' | 'SIGKILL') {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
  });
  after(async () => {
    await c?.close();
  });

  test(`${TOTAL} logins through nginx; jmp-api-1 gets ${apiSignal}, jmp-ssh-1 SIGTERM mid-way: none fails`, async (t) => {
    const [apiA, apiB] = c.apis as [ServiceProcess, ServiceProcess];
    const [sshA, sshB] = c.sshs as [ServiceProcess, ServiceProcess];

    // A person logged in to jmp-ssh-1 directly (through a relay that sends the
    // PROXY header, as nginx does), with the menu open across its SIGTERM:
    // draining must keep serving them until they leave.
    const relay = await startProxyRelay(sshA.port);
    t.after(() => relay.close());
    const held = await login(relay.port, c.user.username, { privateKey: c.user.privateKey });
    const heldShell = await shell(held.client);
    await heldShell.until(/\$ $/);

    let sshDrainCheck: Promise<Error | null> = Promise.resolve(new Error('jmp-ssh-1 was never stopped'));
    const killAt = { api: Math.floor(TOTAL * 0.35), ssh: Math.floor(TOTAL * 0.5) };
    const run = await runLogins({
      port: c.sshPort,
      user: c.user,
      hostname: c.hostname,
      total: TOTAL,
      parallel: PARALLEL,
      passwordEvery: 5,
      // Each kill comes a random moment after the n-th login, not in step
      // with the start of the next one, as a deploy's signal would.
      onProgress: (n) => {
        if (n === killAt.api) setTimeout(() => apiA.kill(apiSignal), Math.random() * 100);
        if (n === killAt.ssh)
          sshDrainCheck = delay(Math.random() * 100)
            .then(async () => {
              sshA.kill('SIGTERM');
              await waitForLog(sshA, 'draining: no longer accepting connections');
              heldShell.send('help\r');
              await heldShell.until(/jmp jump shell[\s\S]*\$ $/);
              held.client.end();
            })
            .then(
              () => null,
              (e: Error) => e,
            );
      },
    });
    assert.equal(await sshDrainCheck, null, 'the session held on jmp-ssh-1 was served while it drained');

    const sorted = [...run.durationsMs].sort((a, b) => a - b);
    t.diagnostic(
      `logins: ${run.ok}/${TOTAL} ok in ${run.elapsedMs} ms; p50 ${sorted[Math.floor(sorted.length / 2)]} ms, p99 ${sorted[Math.floor(sorted.length * 0.99)]} ms, max ${sorted.at(-1)} ms`,
    );
    assert.deepEqual(run.failures, [], `failed logins: ${JSON.stringify(run.failures, null, 1)}`);
    assert.equal(run.ok, TOTAL);

    // The killed processes are gone, as asked; the survivors still run.
    const apiExit = await within(apiA.exited, 20_000, `${apiA.name} exit`);
    const sshExit = await within(sshA.exited, 20_000, `${sshA.name} exit`);
    if (apiSignal === 'SIGTERM') {
      assert.deepEqual(apiExit, { code: 0, signal: null }, apiA.tail());
      assert.equal((await waitForLog(apiA, 'drained; exiting')).result, 'drained');
    } else {
      assert.equal(apiExit.signal, 'SIGKILL');
    }
    assert.deepEqual(sshExit, { code: 0, signal: null }, sshA.tail());
    assert.equal((await waitForLog(sshA, 'drained; exiting')).result, 'drained');
    assert.ok(apiB.running && sshB.running, 'the other instances are still running');

    // nginx: every SSH connection and every API request succeeded, both
    // instances of each served some, and the survivors took over.
    // nginx writes a stream line when both sides have closed: wait for the last ones.
    let ssh = readStreamLog(c.nginx.log('jmp-ssh.log'));
    for (let i = 0; i < 100 && ssh.length < TOTAL; i++) {
      await new Promise((r) => setTimeout(r, 50));
      ssh = readStreamLog(c.nginx.log('jmp-ssh.log'));
    }
    const http = readHttpLog(c.nginx.log('jmp-access.log'));
    const sshServed = servedBy(ssh),
      apiServed = servedBy(http);
    const retriedSsh = ssh.filter((l) => l.upstreams.length > 1).length;
    const retriedApi = http.filter((l) => l.upstreams.length > 1).length;
    t.diagnostic(
      `jmp-ssh connections per instance ${JSON.stringify(sshServed)}, ${retriedSsh} sent on after a refusal`,
    );
    t.diagnostic(
      `jmp-api requests per instance ${JSON.stringify(apiServed)}, ${retriedApi} sent on to the other instance`,
    );
    assert.equal(ssh.length, TOTAL, 'one balanced SSH connection per login');
    assert.deepEqual(
      ssh.filter((l) => l.status !== 200),
      [],
    );
    assert.deepEqual(
      http.filter((l) => l.status >= 400),
      [],
    );
    for (const p of [sshA, sshB]) assert.ok((sshServed[`127.0.0.1:${p.port}`] ?? 0) > 0, `${p.name} served no login`);
    for (const p of [apiA, apiB]) assert.ok((apiServed[`127.0.0.1:${p.port}`] ?? 0) > 0, `${p.name} served no request`);
    // Logins after the kills all went to the survivors.
    const tailSsh = ssh.slice(killAt.ssh + 2 * PARALLEL);
    assert.ok(
      tailSsh.every((l) => l.upstreams.at(-1) === `127.0.0.1:${sshB.port}`),
      'a login after the drain reached the stopped jmp-ssh',
    );
  });
}

describe('failover with SIGTERM (drain)', () => scenario('SIGTERM'));
describe('failover with SIGKILL of jmp-api', () => scenario('SIGKILL'));
