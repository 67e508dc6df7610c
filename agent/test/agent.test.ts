// The agent against a real jmp-api (services/api/test/harness.ts): enrolment,
// policy pull, online decisions over the real socket, hop tickets, the guard
// and its tamper event in the audit log, the DNS fallback, and the fallback
// to offline decisions when jmp-api stops.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import {
  startApi,
  addUser,
  addProject,
  addService,
  addRole,
  addHost,
  type TestApi,
} from '../../services/api/test/harness.js';
import { sha256hex } from '../../services/api/src/crypto/secrets.js';
import { startAgent, type RunningAgent } from '../src/agent.js';
import { enrol } from '../src/enrol/enrol.js';
import { readState } from '../src/enrol/state.js';
import { askAgent } from '../src/cli/client.js';
import { pullOnce } from '../src/cli/enroll.js';
import { cliLogger } from '../src/cli/context.js';
import { readStatus } from '../src/report/status.js';
import { daemonChecks, fileChecks, pamStackCheck } from '../src/cli/doctor.js';
import { silentLog, testConfig, tmpDir } from './fixtures.js';

const PAM_MODULE =
  process.env['JMP_PAM_MODULE'] ?? fileURLToPath(new URL('../../build/pam/pam_jmp.so', import.meta.url));
const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const modeOf = (r: object) => (r as { mode?: string }).mode;
const quiet = cliLogger({ out: () => {}, err: () => {} });

async function until<T>(what: string, fn: () => T | Promise<T>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A one-line exchange from a child process running as `uid`. */
function askAs(uid: number, socketPath: string, line: string): Promise<string> {
  const script = `const s = require('node:net').connect(process.argv[1]); let o = '';
    s.on('connect', () => s.write(process.argv[2])); s.on('data', (d) => { o += d; if (o.includes('\\n')) { process.stdout.write(o); s.destroy(); } });`;
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['-e', script, socketPath, line], {
      uid,
      gid: uid,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('error', reject);
    c.on('exit', () => resolve(out.trim()));
  });
}

describe('jmp-agent with a real jmp-api', () => {
  let api: TestApi;
  let apiClosed = false;
  let agent: RunningAgent;
  let dir: string;
  let alice: { id: number; username: string; uid: number };
  let bob: { id: number; username: string; uid: number };
  let svc: { id: number };
  let ssh: string;
  const pamFile = () => join(dir, 'etc', 'pam.d', 'sshd');
  const nsswitch = () => join(dir, 'etc', 'nsswitch.conf');
  const sock = () => agent.config.socket.path;

  async function ticketFor(user: string, host = 'agent-h1'): Promise<string> {
    const r = await api.call('POST', '/v1/tickets', { auth: `Bearer ${ssh}`, body: { user, host } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.ticket as string;
  }

  before(async () => {
    api = await startApi();
    ssh = api.serviceToken('ssh');
    const p = await addProject(api.db);
    svc = await addService(api.db, p.id);
    alice = await addUser(api.db);
    bob = await addUser(api.db);
    await addRole(api.db, alice.id, 'service', svc.id, 'ops'); // login + root
    await addRole(api.db, bob.id, 'service', svc.id, 'owner'); // login only on an online host
    await addHost(api.db, {
      hostname: 'agent-h2',
      service_id: svc.id,
      addresses: ['10.231.0.42'],
      ssh_host_keys: [SSH_KEY],
    });
    const token = `jmpe_${randomBytes(32).toString('base64url')}`;
    await api.db('enrolment_tokens').insert({
      token_hash: sha256hex(token),
      service_id: svc.id,
      max_uses: 1,
      expires_at: new Date(Date.now() + 3600_000),
    });

    dir = tmpDir();
    mkdirSync(join(dir, 'etc', 'pam.d'), { recursive: true });
    writeFileSync(
      pamFile(),
      'auth [success=done ignore=ignore default=die] pam_jmp.so\naccount required pam_jmp.so\n@include common-auth\n',
    );
    writeFileSync(nsswitch(), 'passwd:         files jmp\ngroup:          files jmp\nhosts:          files dns\n');
    writeFileSync(join(dir, 'ssh_host_ed25519_key.pub'), `${SSH_KEY} root@agent-h1\n`);
    writeFileSync(join(dir, 'etc', 'sudoers-jmp'), 'Defaults:%jmp-users timestamp_timeout=0, noninteractive_auth\n', {
      mode: 0o440,
    });
    writeFileSync(
      join(dir, 'etc', 'nss.conf'),
      `passwd = ${join(dir, 'state', 'passwd')}\ngroup = ${join(dir, 'state', 'group')}\n`,
    );
    const config = testConfig(dir, {
      guard: {
        intervalMs: 200,
        files: [
          { path: pamFile() },
          { path: nsswitch(), lines: '^\\s*(passwd|group)\\s*:' },
          { path: join(dir, 'etc', 'pam.d', 'xrdp-sesman'), optional: true },
        ],
      },
      doctor: {
        pamModule: PAM_MODULE,
        pamFiles: [pamFile()],
        optionalPamFiles: [join(dir, 'etc', 'pam.d', 'xrdp-sesman')],
        nsswitch: nsswitch(),
        nssConf: join(dir, 'etc', 'nss.conf'),
        sudoers: join(dir, 'etc', 'sudoers-jmp'),
      },
    });
    const state = await enrol(
      config,
      { apiUrl: api.url, token, hostname: 'agent-h1', addresses: ['10.231.0.41'] },
      quiet,
    );
    assert.equal(state.hostname, 'agent-h1');
    assert.equal(statSync(config.keyFile).mode & 0o777, 0o600);
    agent = await startAgent(config, { log: silentLog });
  });

  after(async () => {
    await agent?.close();
    if (!apiClosed) await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('enrolment registered the host with its addresses and SSH host key; state holds id and api URL', async () => {
    const st = readState(agent.config.files.state)!;
    assert.equal(st.apiUrl, api.url);
    const host = await api.db('hosts').where({ id: st.hostId }).first();
    assert.equal(host.hostname, 'agent-h1');
    assert.deepEqual(host.addresses, ['10.231.0.41']);
    assert.deepEqual(host.ssh_host_keys, [SSH_KEY]);
  });

  test('the policy pull writes policy.json (0600), passwd and group (0644); a second pull is 304', async () => {
    assert.equal(await agent.syncNow(), 'updated');
    const f = agent.config.files;
    assert.equal(statSync(f.policy).mode & 0o777, 0o600);
    assert.equal(statSync(f.passwd).mode & 0o777, 0o644);
    assert.equal(statSync(f.group).mode & 0o777, 0o644);
    const passwd = readFileSync(f.passwd, 'utf8');
    assert.ok(passwd.includes(`${alice.username}:*:${alice.uid}:${alice.uid}:`), passwd);
    assert.ok(passwd.includes(`${bob.username}:*:${bob.uid}:`));
    assert.ok(readFileSync(f.group, 'utf8').includes(`${alice.username}:*:${alice.uid}:\n`));
    assert.equal(await agent.syncNow(), 'unchanged');
  });

  test('online decisions over the socket', async () => {
    assert.deepEqual(await askAgent(sock(), { op: 'ping' }).then((r) => [r.status, modeOf(r)]), ['pong', 'online']);
    const acc = await askAgent(sock(), { op: 'account', user: alice.username, service: 'sshd' });
    assert.equal(acc.status, 'allow');
    assert.equal(modeOf(acc), 'online');
    const sudoBob = await askAgent(sock(), { op: 'sudo', user: bob.username, runas: 'root' });
    assert.equal(sudoBob.status, 'deny');
    assert.equal(modeOf(sudoBob), 'online');
    const t = await ticketFor(alice.username);
    assert.equal((await askAgent(sock(), { op: 'auth', user: alice.username, ticket: t })).status, 'allow');
    const replay = await askAgent(sock(), { op: 'auth', user: alice.username, ticket: t });
    assert.equal(replay.status, 'deny');
    assert.match((replay as { reason?: string }).reason ?? '', /already been used/);
  });

  test('ticket: the calling user (by SO_PEERCRED) gets a hop ticket inside a live jmp session; root and strangers get none', async () => {
    const root = await askAgent(sock(), { op: 'ticket', host: 'agent-h2' });
    assert.equal(root.status, 'deny');
    // Root naming a person gets nothing either: the ticket is only ever for the caller.
    const rootAsAlice = await askAs(0, sock(), `v1 ticket host=agent-h2 user=${alice.username}\n`);
    assert.match(
      rootAsAlice,
      new RegExp(`^v1 deny reason=root%20may%20not%20ask%20for%20hop%20tickets%20as%20${alice.username}`),
    );
    // No live jmp session of alice on agent-h1 yet: jmp-api refuses.
    assert.match(
      await askAs(alice.uid, sock(), 'v1 ticket host=agent-h2\n'),
      /^v1 deny reason=.*no%20live%20jmp%20session%20on%20agent-h1/,
    );
    const session = randomUUID();
    const started = await api.call('POST', '/v1/sessions', {
      auth: `Bearer ${ssh}`,
      body: { id: session, user: alice.username, host: 'agent-h1' },
    });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const line = await askAs(alice.uid, sock(), 'v1 ticket host=agent-h2\n');
    assert.match(
      line,
      /^v1 ticket ticket=ey[^ ]+ expires_at=\S+ host_id=\d+ hostname=agent-h2 addresses=10.231.0.42 ssh_host_keys=ssh-ed25519%20/,
    );
    assert.match(
      await askAs(65534, sock(), 'v1 ticket host=agent-h2\n'),
      /^v1 deny reason=uid%2065534%20is%20not%20a%20jmp%20user/,
    );
    const issued = await api
      .db('audit_events')
      .where({ action: 'ticket.issued', target: `${alice.username}@agent-h2` })
      .orderBy('id', 'desc')
      .first();
    assert.equal(issued.data.parentSession, session);
    await api.call('POST', `/v1/sessions/${session}/end`, {
      auth: `Bearer ${ssh}`,
      body: { bytesIn: 0, bytesOut: 0, endReason: 'exit' },
    });
  });

  test('the guard reverts a tampered PAM file in place within 5 s and jmp-api records agent.tamper', async () => {
    const before = readFileSync(pamFile());
    const ino = statSync(pamFile()).ino;
    appendFileSync(pamFile(), 'auth sufficient pam_permit.so\n');
    const started = Date.now();
    await until('revert', () => readFileSync(pamFile()).equals(before));
    assert.ok(Date.now() - started < 5000);
    assert.equal(statSync(pamFile()).ino, ino, 'same inode');
    await agent.flushEvents();
    const rows = (await until('audit row', () =>
      api
        .db('audit_events')
        .where({ action: 'agent.tamper' })
        .select('actor', 'data')
        .then((r) => (r.length ? r : null)),
    ))!;
    assert.equal(rows[0].actor, 'host:agent-h1');
    assert.equal(rows[0].data.file, pamFile());
    assert.equal(rows[0].data.linesAdded, 1);
    assert.ok(!JSON.stringify(rows[0].data).includes('pam_permit'), 'no file content in the event');
  });

  test('nsswitch.conf: only the passwd/group lines are guarded', async () => {
    writeFileSync(nsswitch(), 'passwd:         files\ngroup:          files jmp\nhosts:          files\n');
    await until(
      'revert',
      () =>
        readFileSync(nsswitch(), 'utf8') ===
        'passwd:         files jmp\ngroup:          files jmp\nhosts:          files\n',
    );
  });

  test('DNS fallback: an unresolvable API name reaches jmp-api through the fallback address', async () => {
    const port = new URL(api.url).port;
    const over = {
      stateDir: agent.config.stateDir,
      files: {
        passwd: join(dir, 'dns', 'passwd'),
        group: join(dir, 'dns', 'group'),
        policy: join(dir, 'dns', 'policy.json'),
      },
    };
    mkdirSync(join(dir, 'dns'));
    const without = testConfig(dir, {
      ...over,
      api: { url: `http://jmp-api.invalid:${port}`, requestTimeoutMs: 3000 },
    });
    assert.equal(await pullOnce(without, quiet), 'failed');
    const withFallback = testConfig(dir, {
      ...over,
      api: { url: `http://jmp-api.invalid:${port}`, fallbackAddresses: ['127.0.0.1'], requestTimeoutMs: 3000 },
    });
    assert.match(await pullOnce(withFallback, quiet), /^updated: 2 users$/);
    assert.ok(readFileSync(join(dir, 'dns', 'passwd'), 'utf8').includes(alice.username));
  });

  test('status file: enrolled, api up, snapshot, last decision, guard', async () => {
    agent.status();
    await new Promise((r) => setTimeout(r, 1200));
    const st = readStatus(agent.config.files.status)!;
    assert.equal(st.enrolled?.hostname, 'agent-h1');
    assert.equal(st.api.state, 'up');
    assert.equal(st.snapshot?.users, 2);
    assert.ok(st.lastDecision);
    assert.ok(st.guard.tampers >= 2);
    assert.deepEqual(st.degraded, []);
  });

  test(
    'doctor: the wiring checks pass and a real PAM stack reaches the daemon',
    { skip: !existsSync(PAM_MODULE) && 'pam_jmp.so is not built (make pam-build)' },
    async () => {
      const checks = [
        ...fileChecks(agent.config),
        ...(await daemonChecks(agent.config)),
        await pamStackCheck(agent.config, alice.username),
      ];
      for (const c of checks) assert.equal(c.level, 'OK', `${c.what}: ${c.detail}`);
      assert.match(checks.at(-1)!.detail, /PAM_AUTH_ERR: ticket is malformed/);
      writeFileSync(pamFile(), '@include common-auth\n'); // the guard puts it back within a second
      const broken = fileChecks(agent.config).find((c) => c.what === 'pam sshd')!;
      assert.equal(broken.level, 'FAIL');
      await until('revert', () => fileChecks(agent.config).find((c) => c.what === 'pam sshd')!.level === 'OK');
      // xrdp-sesman is checked only where xrdp is installed, and then like sshd.
      const sesman = agent.config.doctor.optionalPamFiles[0]!;
      assert.equal(checks.filter((c) => c.what === 'pam xrdp-sesman').length, 0, 'absent: no check');
      writeFileSync(sesman, '@include common-auth\n');
      try {
        assert.equal(fileChecks(agent.config).find((c) => c.what === 'pam xrdp-sesman')?.level, 'FAIL');
        writeFileSync(sesman, 'auth [success=done ignore=ignore default=die] pam_jmp.so\n@include common-auth\n');
        assert.equal(fileChecks(agent.config).find((c) => c.what === 'pam xrdp-sesman')?.level, 'WARN');
      } finally {
        rmSync(sesman);
      }
    },
  );

  test('jmp-api stopped: offline decisions from the snapshot; used tickets stay used; events wait', async () => {
    const early = await ticketFor(alice.username); // minted before the stop, never used
    const usedOnline = await ticketFor(bob.username);
    assert.equal((await askAgent(sock(), { op: 'auth', user: bob.username, ticket: usedOnline })).status, 'allow');
    await api.close();
    apiClosed = true;
    const started = Date.now();
    const a = await askAgent(sock(), { op: 'auth', user: alice.username, ticket: early });
    assert.equal(a.status, 'allow', JSON.stringify(a));
    assert.equal(modeOf(a), 'offline');
    assert.ok(Date.now() - started < 2500);
    const replay = await askAgent(sock(), { op: 'auth', user: alice.username, ticket: early });
    assert.deepEqual([replay.status, modeOf(replay)], ['deny', 'offline']);
    const replayOnline = await askAgent(sock(), { op: 'auth', user: bob.username, ticket: usedOnline });
    assert.deepEqual(
      [replayOnline.status, (replayOnline as { reason?: string }).reason],
      ['deny', 'ticket has already been used (offline)'],
    );
    assert.equal((await askAgent(sock(), { op: 'sudo', user: alice.username, runas: 'root' })).status, 'allow');
    assert.equal((await askAgent(sock(), { op: 'sudo', user: bob.username, runas: 'root' })).status, 'deny');
    assert.equal(modeOf(await askAgent(sock(), { op: 'ping' })), 'offline');
    assert.equal(agent.health.state, 'down');
    assert.ok(agent.events.size >= 5, `queued ${agent.events.size}`);
  });
});
