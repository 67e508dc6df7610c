// End-to-end (issue 11): what an unprivileged local user on a target, or a
// local account, must not be able to do. Real jmp-api + one lab host running
// the real jmp-agent, sshd, sudo, pam_jmp.so and libnss_jmp.so.2.
//   - "A local user cannot deny logins": uid 65534 holds ~600 connections to
//     the agent socket and drips a byte every second into 256 more (reopening
//     every one the agent closes); a real ssh login and root's PAM question
//     (sudo -n through pam_jmp) still succeed.
//   - "A jmp user never becomes a local account": a jmp user named like a
//     local account (games, uid 5) is left out of the NSS files and cannot
//     log in; the agent itself denies the PAM question.
// Needs root, Postgres, Redis and `make lab-install native-build`.
//   scripts/node-test.sh test/e2e/agent-local-users.test.ts
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startLab, type Lab, type LabHost } from '../lab/lab.js';
import { addGrant, addProject, addService, addUser, startApi, type TestApi } from '../../services/api/test/harness.js';
import { enrolLabHosts, ssh2Login, unmountLabMounts, until, writeAgentConf } from './helpers.js';

const NOBODY = 65534;

/** One request line to the agent as root inside the host, as pam_jmp asks it. */
async function askAsRoot(h: LabHost, line: string): Promise<string> {
  const r = await h.exec([
    process.execPath,
    '-e',
    `
    const s = require('node:net').connect('/run/jmp/agent.sock', () => s.write(process.argv[1] + '\\n'));
    let out = '';
    s.on('data', (d) => { out += d; if (out.includes('\\n')) { process.stdout.write(out); s.destroy(); } });
    s.on('error', (e) => process.stdout.write('ERROR ' + e.code));`,
    line,
  ]);
  return r.stdout.trim();
}

/** uid 65534 opening `idle` silent connections and `drip` connections that send a byte a second; every one closed is reopened. */
function starve(
  socketPath: string,
  idle: number,
  drip: number,
): { child: ChildProcess; stats: () => Promise<{ opened: number; closed: number; open: number }> } {
  const script = `
    const net = require('node:net');
    let opened = 0, closed = 0, open = 0, stopping = false;
    function one(dripping) {
      const s = net.connect(process.argv[1]);
      let connected = false;
      s.on('connect', () => { connected = true; opened++; open++; });
      s.resume();
      s.on('error', () => {});
      const t = dripping ? setInterval(() => { if (!s.destroyed) s.write('v'); }, 1000) : null;
      s.on('close', () => {
        if (t) clearInterval(t);
        closed++;
        if (connected) open--;
        if (!stopping) setTimeout(() => one(dripping), 1000); // and again, a second later
      });
    }
    for (let i = 0; i < ${idle}; i++) one(false);
    for (let i = 0; i < ${drip}; i++) one(true);
    process.stdin.on('data', () => process.stdout.write(JSON.stringify({ opened, closed, open }) + '\\n'));
    process.stdin.on('end', () => { stopping = true; process.exit(0); });`;
  const child = spawn(process.execPath, ['-e', script, socketPath], {
    uid: NOBODY,
    gid: NOBODY,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return {
    child,
    stats: async () => {
      const line = new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
      child.stdin!.write('?');
      return JSON.parse(await line) as { opened: number; closed: number; open: number };
    },
  };
}

describe('local users on a target (issue 11)', { concurrency: false }, () => {
  let lab: Lab | undefined;
  let api: TestApi | undefined;
  let h1: LabHost;
  let ssh: string;
  let alice: { id: number; username: string; uid: number };

  async function ticket(user: string, host: string): Promise<string> {
    const r = await api!.call('POST', '/v1/tickets', { auth: `Bearer ${ssh}`, body: { user, host } });
    assert.equal(r.status, 201, `ticket for ${user}@${host}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.ticket as string;
  }

  before(async () => {
    process.on('exit', unmountLabMounts);
    lab = await startLab({
      hosts: ['h1'],
      prepare: (h) => writeAgentConf(h, { policy: { intervalMs: 1000, jitterMs: 0 } }),
    });
    h1 = lab.host('h1');
    api = await startApi({ listenHost: lab.bridgeAddress });
    ssh = api.serviceToken('ssh');
    const project = await addProject(api.db);
    const svc = await addService(api.db, project.id);
    await enrolLabHosts(api, svc.id, [h1]);
    alice = await addUser(api.db, { username: 'alice' });
    // A jmp user named like a local account of every Debian host (games, uid 5): straight into the
    // database, as if jmp-api had let the name through.
    const games = await addUser(api.db, { username: 'games' });
    for (const u of [alice, games]) {
      await addGrant(api.db, { subject_id: u.id, scope_type: 'service', scope_id: svc.id, right: 'login' });
      await addGrant(api.db, { subject_id: u.id, scope_type: 'service', scope_id: svc.id, right: 'root' });
    }
    await h1.restartAgent();
    await until(
      'h1 knows alice through NSS',
      async () => (await h1.exec(['getent', 'passwd', 'alice'])).stdout.startsWith('alice:'),
      30_000,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}\n--- ${h1.agentLog} (tail)\n${readFileSync(h1.agentLog, 'utf8').split('\n').slice(-15).join('\n')}`,
      );
    });
  });

  after(async () => {
    try {
      await api?.close();
    } finally {
      unmountLabMounts();
      await lab?.stop();
      process.removeListener('exit', unmountLabMounts);
    }
  });

  test("uid 65534 holding ~600 connections and dripping into 256 cannot deny an ssh login or root's PAM question", async () => {
    const sock = join(h1.runDir, 'agent.sock');
    const attacker = starve(sock, 600, 256);
    try {
      await new Promise((r) => setTimeout(r, 2500)); // past the agent's 2 s deadline: the flood is at full strength
      const before = await attacker.stats();
      assert.ok(before.opened >= 856, `the attacker connected (${JSON.stringify(before)})`);
      assert.ok(before.closed >= 800, `the agent turned the flood away (${JSON.stringify(before)})`);

      const t = await ticket('alice', 'h1');
      const r = await ssh2Login(h1, 'alice', t, 'id -un; sudo -n id -u');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'alice\n0\n', 'logged in, and sudo (root asking the agent) answered');
      // root asking directly, as pam_jmp does; the answer carries alice's jmp uid.
      for (let i = 0; i < 5; i++) {
        assert.match(
          await askAsRoot(h1, 'v1 account user=alice service=sshd'),
          new RegExp(`^v1 allow .*uid=${alice.uid}$`),
        );
      }
      const during = await attacker.stats();
      assert.ok(during.closed > before.closed, `the flood went on meanwhile (${JSON.stringify(during)})`);
    } finally {
      attacker.child.stdin!.end();
      await new Promise((r) => attacker.child.once('exit', r));
    }
  });

  test('a jmp user named like a local account is not in the NSS files and cannot log in', async () => {
    const pw = await h1.exec(['getent', 'passwd', 'games']);
    assert.match(pw.stdout, /^games:x:5:/, 'the local account, from the files source');
    assert.doesNotMatch(readFileSync(join(h1.stateDir, 'passwd'), 'utf8'), /^games:/m, "not in jmp's passwd file");
    const gr = (await h1.exec(['getent', 'group', 'jmp-users'])).stdout;
    assert.match(gr, /\balice\b/);
    assert.doesNotMatch(gr, /\bgames\b/, 'not a member of jmp-users');
    assert.match(readFileSync(h1.agentLog, 'utf8'), /skipping user \\?"games\\?": a local account has this name/);

    const t = await ticket('games', 'h1');
    const r = await ssh2Login(h1, 'games', t, 'id -u').catch((err: Error) => ({
      code: -1,
      stdout: '',
      stderr: err.message,
    }));
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, '', 'never a shell as the local account games');
    // The agent itself refuses the question (root asks it, as pam_jmp would).
    assert.match(
      await askAsRoot(h1, 'v1 account user=games service=sshd'),
      /^v1 deny reason=local%20account%20games%20exists%20on%20this%20host/,
    );
  });
});
