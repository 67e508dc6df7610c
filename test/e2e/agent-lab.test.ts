// End-to-end: real jmp-api (Postgres, Redis) + two lab hosts (network
// namespaces with real sshd, sudo, su, pam_jmp.so, libnss_jmp.so.2) each
// running the real jmp-agent, enrolled with `jmp-agent enroll` inside the
// host. The six scenarios of issue 4 ("End-to-end tests"):
//   1. ticket login (ssh2 client, keyboard-interactive)     4. jmp-api stopped (offline, default deny)
//   2. denials, with the reason at the client               5. tamper guard + audit event
//   3. sudo / su, revocation takes effect at once           6. state dir on a full tmpfs
// h2's state dir is a 256 KiB tmpfs (scenario 6), mounted before its agent
// starts and filled once the host is enrolled. Scenario 4 stops jmp-api, so
// it runs last. Needs root, Postgres, Redis and `make lab-install native-build`.
//   scripts/node-test.sh test/e2e      (or: make e2e-test)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import jwt from 'jsonwebtoken';
import { pidAlive, startLab, type Lab, type LabHost } from '../lab/lab.js';
import { addGrant, addProject, addService, addUser, startApi, type TestApi } from '../../services/api/test/harness.js';
import {
  agentCli,
  agentLog,
  enrolLabHosts,
  logSize,
  ssh2Login,
  unmountLabMounts,
  until,
  writeAgentConf,
} from './helpers.js';

const TMPFS_HOST = 'h2';
const TMPFS_SIZE = '256k';

// ------------------------------------------------------------------ the suite

describe('jmp-agent end to end (lab hosts, real jmp-api)', { concurrency: false }, () => {
  let lab: Lab | undefined;
  let api: TestApi | undefined;
  let spareTicket = ''; // alice@h2, minted before jmp-api stops (scenario 4)
  let h1: LabHost;
  let h2: LabHost;
  let ssh: string;
  let admin: string;
  const hostIds: Record<string, number> = {};
  let alice: { id: number; username: string; uid: number };
  let bob: { id: number; username: string; uid: number };
  let carol: { id: number; username: string; uid: number };
  let aliceRootOnH1: { id: number };
  let carolLogin: { id: number };

  const onExit = (): void => unmountLabMounts(); // runs before lab.ts's own exit handler (registered later)

  async function ticket(user: string, host: string): Promise<string> {
    const r = await api!.call('POST', '/v1/tickets', { auth: `Bearer ${ssh}`, body: { user, host } });
    assert.equal(r.status, 201, `ticket for ${user}@${host}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.ticket as string;
  }

  /**
   * SIGHUP: the agent pulls the policy now. Sent only once the daemon catches
   * SIGHUP (SigCgt): `jmp-agent run` installs its handler after the socket
   * exists, and a SIGHUP in between kills it (seen right after restartAgent()).
   */
  async function pullNow(h: LabHost): Promise<void> {
    const pid = h.pids().agent!;
    await until(
      `${h.name}'s agent catches SIGHUP`,
      () => {
        const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        return m !== null && (BigInt(`0x${m[1]}`) & 1n) === 1n;
      },
      10_000,
      20,
    );
    process.kill(pid, 'SIGHUP');
  }

  /** The newest audit row jmp-api wrote for a PAM answer (action pam.<op>.<allow|deny>). */
  async function lastPamAudit(
    op: string,
    target: string,
  ): Promise<{ action: string; data: { reason: string } } | undefined> {
    return api!
      .db('audit_events')
      .where('action', 'like', `pam.${op}.%`)
      .where({ target })
      .orderBy('id', 'desc')
      .first('action', 'data');
  }

  /** A ticket signed with jmp-api's real ticket key, already expired. */
  function expiredTicket(user: string, host: string): string {
    const { kid, privateKey } = api!.ctx.ticketKeys.current();
    const now = Math.floor(Date.now() / 1000);
    return jwt.sign({ iat: now - 100, exp: now - 40 }, privateKey, {
      algorithm: 'ES256',
      keyid: kid,
      subject: user,
      audience: `jmp-host:${hostIds[host]}`,
      jwtid: `e2e-expired-${randomBytes(4).toString('hex')}`,
      issuer: 'jmp-api',
    });
  }

  before(async () => {
    process.on('exit', onExit);
    unmountLabMounts(); // leftovers of a crashed run
    lab = await startLab({
      hosts: ['h1', 'h2'],
      prepare: (h) => {
        // h1 pulls the policy only when told (SIGHUP), so a revoked user stays in its NSS cache until
        // the test says so; h2 pulls every second (each pull that changes the snapshot meets its full disk).
        writeAgentConf(h, {
          policy: h.name === 'h1' ? { intervalMs: 3_600_000, jitterMs: 0 } : { intervalMs: 1000, jitterMs: 0 },
          events: { flushIntervalMs: 1000 },
        });
        if (h.name === TMPFS_HOST) {
          const r = spawnSync(
            'mount',
            ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE},mode=0755`, 'jmp-e2e-full', h.stateDir],
            { encoding: 'utf8' },
          );
          assert.equal(r.status, 0, `mount tmpfs on ${h.stateDir}: ${r.stderr}`);
        }
      },
    });
    h1 = lab.host('h1');
    h2 = lab.host('h2');
    api = await startApi({ listenHost: lab.bridgeAddress });
    ssh = api.serviceToken('ssh');
    admin = `Bearer ${api.serviceToken('admin')}`;

    // Enrol both hosts from inside (host name, addresses, SSH host keys), each with its own key.
    const project = await addProject(api.db);
    const svc = await addService(api.db, project.id);
    Object.assign(hostIds, await enrolLabHosts(api, svc.id, [h1, h2]));
    assert.notEqual(
      readFileSync(join(h1.etcDir, 'jmp/agent.key'), 'utf8'),
      readFileSync(join(h2.etcDir, 'jmp/agent.key'), 'utf8'),
    );

    // alice: login on the service (h1, h2), root on h1. bob: login on h1. carol: login on the service (revoked in scenario 2).
    alice = await addUser(api.db, { username: 'alice' });
    bob = await addUser(api.db, { username: 'bob' });
    carol = await addUser(api.db, { username: 'carol' });
    await addGrant(api.db, { subject_id: alice.id, scope_type: 'service', scope_id: svc.id, right: 'login' });
    aliceRootOnH1 = await addGrant(api.db, {
      subject_id: alice.id,
      scope_type: 'host',
      scope_id: hostIds.h1!,
      right: 'root',
    });
    await addGrant(api.db, { subject_id: bob.id, scope_type: 'host', scope_id: hostIds.h1!, right: 'login' });
    carolLogin = await addGrant(api.db, {
      subject_id: carol.id,
      scope_type: 'service',
      scope_id: svc.id,
      right: 'login',
    });

    // The daemons were started unenrolled: restart them; they load the identity and pull at start.
    await Promise.all([h1.restartAgent(), h2.restartAgent()]);
    for (const h of [h1, h2]) {
      await until(`${h.name} knows alice through NSS`, async () =>
        (await h.exec(['getent', 'passwd', 'alice'])).stdout.startsWith('alice:'),
      ).catch((err: Error) => {
        throw new Error(
          `${err.message}\n--- ${h.agentLog} (tail)\n${readFileSync(h.agentLog, 'utf8').split('\n').slice(-15).join('\n')}`,
        );
      });
    }
    await until(
      'h1 knows bob and carol',
      async () => (await h1.exec(['getent', 'passwd', 'bob', 'carol'])).stdout.split('\n').length === 3,
    );

    // Scenario 6's precondition: h2's state dir (a tmpfs) is full from now on.
    spawnSync('dd', ['if=/dev/zero', `of=${join(h2.stateDir, 'fill')}`, 'bs=4k'], { stdio: 'ignore' });
    const df = spawnSync('df', ['--output=avail', '-B1', h2.stateDir], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .at(-1)!
      .trim();
    assert.equal(df, '0', `h2's state dir is full (available: ${df})`);
  });

  after(async () => {
    try {
      await api?.close(); // also after a stop: closing the closed server is harmless, the database is dropped
    } finally {
      unmountLabMounts();
      await lab?.stop();
      process.removeListener('exit', onExit);
    }
  });

  // ---------------------------------------------------------------- 1
  test('1. ticket login: an ssh2 client logs in to h1 as alice (keyboard-interactive); uid from jmp-api, home exists', async () => {
    const t = await ticket('alice', 'h1');
    const r = await ssh2Login(h1, 'alice', t, 'id -un; id -u; test -d ~ && echo home=$HOME; hostname');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.prompts, ['jmp ticket: ']);
    assert.equal(r.stdout, `alice\n${alice.uid}\nhome=/home/alice\nh1\n`);
    const row = await api!.db('users').where({ username: 'alice' }).first();
    assert.equal(row.uid, alice.uid);
    assert.ok(alice.uid >= 200000);
    // The decision went to jmp-api (online) and is in its audit chain.
    const auth = agentLog(h1).filter((l) => l.op === 'auth' && l.user === 'alice');
    assert.ok(!auth.some((l) => l.mode === 'offline' || l.mode === 'default'), 'decided online');
    const audit = await api!
      .db('audit_events')
      .where({ target: 'alice@h1' })
      .where('action', 'like', 'pam.auth%')
      .select('action');
    assert.ok(audit.length > 0, 'the login is audited in jmp-api');
  });

  // ---------------------------------------------------------------- 2
  describe('2. denied logins, and the reason reaches the client', () => {
    const denied = (r: { code: number | null; stdout: string; stderr: string }, reason: RegExp) => {
      assert.equal(r.code, 255, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, reason);
      assert.match(r.stderr, /Permission denied \(keyboard-interactive\)/);
    };

    test('a wrong ticket', async () => {
      denied(await h1.ssh('alice', 'id -un', { ticket: 'not-a-ticket' }), /ticket is malformed/);
      // A well-formed ticket with a forged signature.
      const good = await ticket('alice', 'h1');
      const [hd, body] = good.split('.');
      denied(
        await h1.ssh('alice', 'id -un', { ticket: `${hd}.${body}.${Buffer.alloc(64, 7).toString('base64url')}` }),
        /ticket signature is invalid/,
      );
    });

    test('an expired ticket', async () => {
      denied(await h1.ssh('alice', 'id -un', { ticket: expiredTicket('alice', 'h1') }), /ticket has expired/);
    });

    test('a replayed ticket', async () => {
      const t = await ticket('alice', 'h1');
      const first = await h1.ssh('alice', 'id -un', { ticket: t });
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout, 'alice\n');
      denied(await h1.ssh('alice', 'id -un', { ticket: t }), /already (been )?used/);
    });

    test('a ticket for h2 used on h1', async () => {
      const t = await ticket('alice', 'h2');
      denied(await h1.ssh('alice', 'id -un', { ticket: t }), /ticket is for another host/);
    });

    test('a ticket for another user', async () => {
      const t = await ticket('alice', 'h1');
      denied(await h1.ssh('bob', 'id -un', { ticket: t }), /ticket is for another user/);
    });

    test('a user without the login right (revoked after her ticket was minted)', async () => {
      const t = await ticket('carol', 'h1');
      await api!.db('grants').where({ id: carolLogin.id }).update({ revoked_at: new Date() });
      // h1 has not pulled since: NSS still knows carol, so sshd hands her ticket to PAM and jmp-api re-checks the grant.
      assert.equal((await h1.exec(['getent', 'passwd', 'carol'])).code, 0);
      denied(await h1.ssh('carol', 'id -un', { ticket: t }), /no login right for carol on h1/);
      // No ticket is minted for her any more either.
      const r = await api!.call('POST', '/v1/tickets', { auth: `Bearer ${ssh}`, body: { user: 'carol', host: 'h1' } });
      assert.ok(r.status >= 400 && r.status < 500, `ticket for carol: ${r.status}`);
      // The next policy pull drops her from h1's NSS cache; sshd then refuses her as an unknown user.
      await pullNow(h1);
      await until('carol gone from h1 NSS', async () => (await h1.exec(['getent', 'passwd', 'carol'])).code === 2);
      const gone = await h1.ssh('carol', 'id -un', { ticket: await ticket('alice', 'h1') });
      assert.equal(gone.code, 255);
      assert.equal(gone.stdout, '');
      assert.match(readFileSync(h1.sshdLog, 'utf8'), /Invalid user carol from/);
    });
  });

  // ---------------------------------------------------------------- 3
  describe('3. sudo and su ask jmp-api every time', () => {
    test('sudo -n id -u: 0 with the root right, refused without it', async () => {
      const a = await h1.ssh('alice', 'sudo -n id -u', { ticket: await ticket('alice', 'h1') });
      assert.equal(a.code, 0, a.stderr);
      assert.equal(a.stdout, '0\n');
      const b = await h1.ssh('bob', 'sudo -n id -u; echo "rc=$?"', { ticket: await ticket('bob', 'h1') });
      assert.equal(b.code, 0, b.stderr);
      assert.match(b.stdout, /^rc=1$/m);
      assert.doesNotMatch(b.stdout, /^0$/m);
      // sudo keeps PAM info messages to itself (sudoers pam_silent): the reason is in jmp-api's audit log.
      const audit = await lastPamAudit('sudo', 'bob@h1');
      assert.equal(audit?.action, 'pam.sudo.deny');
      assert.match(audit!.data.reason, /^no root right for bob on h1/);
    });

    test("su -c 'id -u' root: 0 with the root right (no password asked), refused without it", async () => {
      const a = await h1.ssh('alice', "su -c 'id -u' root", { ticket: await ticket('alice', 'h1') });
      assert.equal(a.code, 0, a.stderr);
      assert.equal(a.stdout, '0\n');
      assert.doesNotMatch(a.stderr, /[Pp]assword/);
      const b = await h1.ssh('bob', 'su -c \'id -u\' root; echo "rc=$?"', { ticket: await ticket('bob', 'h1') });
      assert.match(b.stdout, /^rc=1$/m);
      assert.doesNotMatch(b.stdout, /^0$/m);
      assert.match(b.stderr, /su: Authentication failure/);
      assert.match((await lastPamAudit('su', 'bob@h1'))!.data.reason, /^no root right for bob on h1/);
    });

    test('revoking the root grant takes effect on the very next sudo and su (same session, no cached sudo)', async () => {
      // One session: sudo works, the grant is revoked through the admin API, the next sudo fails.
      const marker = join(h1.tmpDir, `revoke-${randomBytes(4).toString('hex')}`);
      const script = [
        'sudo -n id -u; echo "sudo1=$?"',
        `while [ ! -e ${marker.replace(h1.tmpDir, '/tmp')} ]; do sleep 0.05; done`,
        'sudo -n id -u; echo "sudo2=$?"',
        'su -c \'id -u\' root; echo "su2=$?"',
      ].join('; ');
      // jmp-api audits every sudo answer: wait for the session's first one, then revoke.
      const sudoAudits = async (): Promise<number> =>
        Number(
          (await api!.db('audit_events').where({ action: 'pam.sudo.allow', target: 'alice@h1' }).count({ n: '*' }))[0]!
            .n,
        );
      const t = await ticket('alice', 'h1');
      const before = await sudoAudits();
      const session = h1.ssh('alice', script, { ticket: t });
      await until('the first sudo decided', async () => (await sudoAudits()) > before);
      const del = await api!.call('DELETE', `/v1/grants/${aliceRootOnH1.id}`, { auth: admin });
      assert.ok(del.status === 200 || del.status === 204, `DELETE grant: ${del.status} ${JSON.stringify(del.body)}`);
      writeFileSync(marker, '');
      const r = await session;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^0\nsudo1=0$/m);
      assert.match(r.stdout, /^sudo2=1$/m);
      assert.match(r.stdout, /^su2=1$/m);
      assert.equal(r.stdout.match(/^0$/gm)?.length, 1, `only the first sudo became root:\n${r.stdout}`);
      assert.equal((await lastPamAudit('sudo', 'alice@h1'))?.action, 'pam.sudo.deny');
      assert.match((await lastPamAudit('su', 'alice@h1'))!.data.reason, /^no root right for alice on h1/);
      // Restore alice's root right for the other scenarios.
      aliceRootOnH1 = await addGrant(api!.db, {
        subject_id: alice.id,
        scope_type: 'host',
        scope_id: hostIds.h1!,
        right: 'root',
      });
    });
  });

  // ---------------------------------------------------------------- 5
  test('5. tamper: an in-place edit of h1 pam.d/sshd is reverted within 5 s and reported to jmp-api', async () => {
    const file = join(h1.etcDir, 'pam.d', 'sshd');
    const original = readFileSync(file, 'utf8');
    const t0 = Date.now();
    writeFileSync(file, `auth sufficient pam_permit.so\n${original}`); // in place: same inode the host has bound
    await until('pam.d/sshd restored', () => readFileSync(file, 'utf8') === original, 5000, 50);
    const revertedMs = Date.now() - t0;
    assert.ok(revertedMs < 5000, `reverted after ${revertedMs} ms`);
    // Visible in jmp-api's audit log (admin API).
    const ev = await until(
      'agent.tamper in the audit log',
      async () => {
        const r = await api!.call('GET', '/v1/audit?action=agent.tamper', { auth: admin });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const items = r.body.items as Array<{
          actor: string;
          action: string;
          target: string;
          data: Record<string, unknown>;
        }>;
        return items.find((e) => e.target === 'h1' && JSON.stringify(e.data).includes('/etc/pam.d/sshd'));
      },
      10_000,
      200,
    );
    assert.equal(ev.actor, 'host:h1');
    // The restored stack still asks for a ticket: a wrong one is refused.
    const r = await h1.ssh('alice', 'id -un', { ticket: 'not-a-ticket' });
    assert.equal(r.code, 255);
    assert.equal(r.stdout, '');
    console.log(`tamper reverted in ${revertedMs} ms`);
  });

  // ---------------------------------------------------------------- 6
  test('6. state dir on a full tmpfs: logins, sudo and su on h2 are still decided', async () => {
    const before = logSize(h2);
    // Restarted on the full disk too: it loads the snapshot and answers.
    await h2.restartAgent();
    const login = await h2.ssh('alice', "id -un; su -c 'id -u' alice; echo su=$?", {
      ticket: await ticket('alice', 'h2'),
    });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, 'alice\n' + `${alice.uid}\nsu=0\n`);
    const sudo = await h2.ssh('alice', 'sudo -n id -u; echo "rc=$?"', { ticket: await ticket('alice', 'h2') });
    assert.match(sudo.stdout, /^rc=1$/m, 'alice has no root right on h2: denied, but answered');
    assert.match((await lastPamAudit('sudo', 'alice@h2'))!.data.reason, /^no root right for alice on h2/);
    const log = agentLog(h2, before);
    assert.ok(
      log.some((l) => l.code === 'ENOSPC'),
      `the agent noticed the full disk:\n${log.map((l) => l.msg).join('\n')}`,
    );
    const df = spawnSync('df', ['--output=avail', '-B1', h2.stateDir], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .at(-1)!
      .trim();
    assert.equal(df, '0', 'still full');
    const st = await agentCli(h2, ['status', '--json']);
    assert.equal(st.code, 0, st.stderr);
    assert.equal(JSON.parse(st.stdout).daemon.ok, true);
  });

  // ---------------------------------------------------------------- 4 (last: stops jmp-api)
  describe('4. jmp-api stopped', () => {
    test('a ticket minted before the stop logs in once (offline check); its replay is refused', async () => {
      const t = await ticket('alice', 'h1');
      const spare = await ticket('alice', 'h2'); // for the no-snapshot test below
      api!.server.close();
      api!.server.closeAllConnections();
      spareTicket = spare;
      const before = logSize(h1);
      const r = await h1.ssh('alice', 'id -un; id -u', { ticket: t });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `alice\n${alice.uid}\n`);
      const offline = agentLog(h1, before).filter((l) => l.mode === 'offline');
      assert.ok(
        offline.some((l) => l.op === 'auth' && l.user === 'alice' && l.allow === true),
        `offline auth in the agent log:\n${JSON.stringify(agentLog(h1, before))}`,
      );
      const replay = await h1.ssh('alice', 'id -un', { ticket: t });
      assert.equal(replay.code, 255);
      assert.equal(replay.stdout, '');
      assert.match(replay.stderr, /ticket has already been used \(offline\)/);
      // The status file is rewritten about once a second: read until it has caught up.
      const status = await until(
        'status shows api_unreachable',
        async () => {
          const st = JSON.parse((await agentCli(h1, ['status', '--json'])).stdout);
          return st.status.degraded.includes('api_unreachable') ? st : null;
        },
        10_000,
        200,
      );
      assert.equal(status.daemon.mode, 'offline');
    });

    test('with no snapshot and default deny: refused', async () => {
      // Stop the daemon before deleting: on h2's full disk it keeps the snapshot in memory and
      // would write policy.json back (disk retry) as soon as the delete frees room.
      const pid = h2.pids().agent!;
      process.kill(pid, 'SIGTERM');
      await until('h2 agent stopped', () => !pidAlive(pid));
      rmSync(join(h2.stateDir, 'policy.json'), { force: true });
      await h2.restartAgent();
      assert.ok(!existsSync(join(h2.stateDir, 'policy.json')));
      const r = await h2.ssh('alice', 'id -un', { ticket: spareTicket });
      assert.equal(r.code, 255);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /no policy snapshot; default deny/);
      const st = JSON.parse((await agentCli(h2, ['status', '--json'])).stdout);
      assert.equal(st.daemon.mode, 'default');
    });
  });
});
