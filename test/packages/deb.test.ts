// The .deb on a clean Debian bookworm (debootstrap, cached per day): install
// with its dependencies, start sshd and the agent in a network namespace on
// that root, enrol against a real jmp-api, log in with a ticket, `sudo -n`;
// local accounts (root included) keep their passwords; upgrade N → N+1 keeps
// the configuration, adds no PAM line twice and restarts the agent; removal
// puts every touched file back byte for byte and purge removes the state.
// Needs root, Postgres, Redis, `make packages`. Run: make packages-test.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from 'ssh2';
import { addGrant, addProject, addService, addUser, startApi, type TestApi } from '../../services/api/test/harness.js';
import { sha256hex } from '../../services/api/src/crypto/secrets.js';
import { startChrootHost, type ChrootHost } from './chroot-host.js';

const REPO = new URL('../..', import.meta.url).pathname;
const VERSION = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version as string;
const DEB_N = join(REPO, 'dist/packages', `jmp-agent_${VERSION}-1_amd64.deb`);
const NEXT = `${VERSION}+1`;
const ROOT_PW = `root-${randomBytes(6).toString('hex')}`;
const LOCAL_PW = `adm-${randomBytes(6).toString('hex')}`;
/** Every file the install scripts may touch. */
const TOUCHED = [
  'pam.d/sshd',
  'pam.d/xrdp-sesman',
  'pam.d/sudo',
  'pam.d/sudo-i',
  'pam.d/su',
  'nsswitch.conf',
  'sudoers.d/jmp',
  'ssh/sshd_config.d/10-jmp.conf',
];

async function until<T>(what: string, fn: () => Promise<T> | T, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** path → "mode sha256" (or "link target") of everything under dir. */
function tree(dir: string, base = dir, out = new Map<string, string>()): Map<string, string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const rel = p.slice(base.length + 1);
    const st = lstatSync(p);
    if (e.isDirectory()) {
      out.set(`${rel}/`, (st.mode & 0o7777).toString(8));
      tree(p, base, out);
    } else if (e.isSymbolicLink()) out.set(rel, `-> ${readlinkSync(p)}`);
    else
      out.set(rel, `${(st.mode & 0o7777).toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
  }
  return out;
}

function diff(a: Map<string, string>, b: Map<string, string>): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
}

interface Login {
  code: number | null;
  out: string;
}

/** ssh2 keyboard-interactive login answering every prompt with `answer`; runs `command` (with a pty when `su` asks). */
function sshLogin(
  host: ChrootHost,
  user: string,
  answer: string,
  command: string,
  suPassword?: string,
): Promise<Login> {
  return new Promise((resolve, reject) => {
    const conn = new Client();
    const timer = setTimeout(() => {
      conn.end();
      reject(new Error(`ssh ${user}@${host.name} timed out`));
    }, 30_000);
    conn.on('keyboard-interactive', (_n, _i, _l, prompts, finish) => finish(prompts.map(() => answer)));
    conn.on('ready', () => {
      conn.exec(command, suPassword ? { pty: true } : {}, (err, stream) => {
        if (err) {
          clearTimeout(timer);
          conn.end();
          reject(err);
          return;
        }
        let out = '';
        let code: number | null = null;
        let answered = false;
        stream.on('data', (d: Buffer) => {
          out += d.toString();
          if (suPassword && !answered && /Password:/.test(out)) {
            answered = true;
            stream.write(`${suPassword}\n`);
          }
        });
        stream.stderr.on('data', (d: Buffer) => (out += d.toString()));
        stream.on('exit', (c: number | null) => (code = c));
        stream.on('close', () => {
          clearTimeout(timer);
          conn.end();
          resolve({ code, out });
        });
      });
    });
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.connect({
      host: host.address,
      port: 22,
      username: user,
      tryKeyboard: true,
      authHandler: ['keyboard-interactive'],
      readyTimeout: 20_000,
    });
  });
}

describe('jmp-agent .deb on a clean bookworm root', { concurrency: false }, () => {
  let host: ChrootHost;
  let api: TestApi;
  let work: string;
  let debNext: string;
  let etcBefore: Map<string, string>;
  let hostId = 0;
  let ssh = '';

  const ticket = async (user: string): Promise<string> => {
    const r = await api.call('POST', '/v1/tickets', { auth: `Bearer ${ssh}`, body: { user, host: 'h1' } });
    assert.equal(r.status, 201, `ticket: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.ticket as string;
  };
  // /run is private to the host: read it from inside.
  const agentPid = async (): Promise<string> => (await host.must('cat /run/jmp-agent.test.pid')).trim();
  const fileHas = (rel: string, text: string) => (): boolean =>
    existsSync(join(host.root, rel)) && readFileSync(join(host.root, rel), 'utf8').includes(text);
  const agentLog = (): string => {
    try {
      return readFileSync(join(host.root, 'var/log/jmp-agent.log'), 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '';
    }
  };

  before(async () => {
    assert.ok(existsSync(DEB_N), `${DEB_N} missing: run make packages`);
    const t0 = Date.now();
    const lower = execFileSync(join(REPO, 'test/packages/bookworm-root.sh'), {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
      .trim()
      .split('\n')
      .at(-1)!;
    process.stderr.write(`packages-test: bookworm root ${lower} ready in ${Date.now() - t0} ms\n`);
    // Version N+1: the same tree under the next version.
    work = mkdtempSync(join(tmpdir(), 'jmp-pkg-test-'));
    const b = spawnSync(join(REPO, 'scripts/packages.sh'), {
      env: { ...process.env, JMP_PKG_VERSION: NEXT, JMP_PKG_OUT: work, JMP_PKG_SKIP_LINTIAN: '1' },
      encoding: 'utf8',
    });
    assert.equal(b.status, 0, `build ${NEXT}: ${b.stderr}`);
    debNext = join(work, `jmp-agent_${NEXT}-1_amd64.deb`);

    host = await startChrootHost('h1', lower);
    api = await startApi({ listenHost: host.bridgeAddress });
    ssh = api.serviceToken('ssh');
    mkdirSync(join(host.root, 'var/tmp/debs'), { recursive: true });
    copyFileSync(DEB_N, join(host.root, 'var/tmp/debs/n.deb'));
    copyFileSync(debNext, join(host.root, 'var/tmp/debs/next.deb'));
    copyFileSync(join(REPO, 'test/packages/systemctl-stub.sh'), join(host.root, 'usr/bin/systemctl'));
    await host.must('mkdir -p /run/systemd/system /run/sshd');

    // The package's dependencies first (by name from its Depends), so /etc can be photographed before jmp touches it.
    const depends = execFileSync('dpkg-deb', ['-f', DEB_N, 'Depends'], { encoding: 'utf8' })
      .split(',')
      .map((d) => d.trim().split(/\s/)[0]!);
    const t1 = Date.now();
    await host.must(`apt-get install -y -qq --no-install-recommends ${depends.join(' ')} >/dev/null`);
    process.stderr.write(`packages-test: dependencies (${depends.join(', ')}) installed in ${Date.now() - t1} ms\n`);
    await host.must(
      `echo 'root:${ROOT_PW}' | chpasswd && useradd -m -s /bin/bash localadm && echo 'localadm:${LOCAL_PW}' | chpasswd`,
    );
    // xrdp's PAM file as its package ships it: Linux desktops log in through pam_jmp too.
    copyFileSync(join(REPO, 'test/packages/xrdp-sesman.pam'), join(host.root, 'etc/pam.d/xrdp-sesman'));
    etcBefore = tree(join(host.root, 'etc'));
  });

  after(async () => {
    await api?.close();
    host?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('apt installs the .deb; the scripts wire PAM, NSS, sudoers and sshd and start the agent', async () => {
    const r = await host.run('apt-get install -y --no-install-recommends /var/tmp/debs/n.deb');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const sshd = readFileSync(join(host.root, 'etc/pam.d/sshd'), 'utf8');
    assert.match(sshd, /notingroup jmp-users\nauth .*pam_jmp\.so/);
    const xrdp = readFileSync(join(host.root, 'etc/pam.d/xrdp-sesman'), 'utf8');
    assert.match(xrdp, /notingroup jmp-users\nauth .*pam_jmp\.so/);
    assert.equal(xrdp.match(/pam_jmp\.so/g)?.length, 3, 'xrdp-sesman: auth, account and session, as sshd');
    assert.match(readFileSync(join(host.root, 'etc/nsswitch.conf'), 'utf8'), /^passwd:\s+files jmp/m);
    assert.equal((await host.run('visudo -c')).code, 0);
    assert.match(
      await host.must('/usr/sbin/sshd -T -C user=x,host=x,addr=127.0.0.1'),
      /^kbdinteractiveauthentication yes$/m,
    );
    assert.match(readFileSync(join(host.root, 'var/log/systemctl.log'), 'utf8'), /restart jmp-agent.service/);
    assert.match(await host.must('jmp-agent --help'), /Usage: jmp-agent COMMAND/);
    await until('the agent socket', async () => (await host.run('test -S /run/jmp/agent.sock')).code === 0);
  });

  test('enrol against jmp-api, log in with a ticket, sudo -n id -u → 0', async () => {
    const project = await addProject(api.db);
    const svc = await addService(api.db, project.id);
    const token = `jmpe_${randomBytes(32).toString('base64url')}`;
    await api.db('enrolment_tokens').insert({
      token_hash: sha256hex(token),
      service_id: svc.id,
      max_uses: 1,
      expires_at: new Date(Date.now() + 3600_000),
    });
    writeFileSync(join(host.root, 'root/token'), token, { mode: 0o600 });
    const e = await host.run(
      `jmp-agent enroll --api ${api.url} --token-file /root/token --hostname h1 --address ${host.address}`,
    );
    assert.equal(e.code, 0, e.stderr + e.stdout);
    hostId = (await api.db('hosts').where({ hostname: 'h1' }).first()).id;
    const alice = await addUser(api.db, { username: 'alice' });
    await addGrant(api.db, { subject_id: alice.id, scope_type: 'host', scope_id: hostId, right: 'root' });
    await host.must('systemctl restart jmp-agent.service');
    await until('alice through NSS', async () =>
      (await host.run('getent passwd alice')).stdout.startsWith('alice:'),
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${agentLog()}`);
    });
    host.startDaemon('exec /usr/sbin/sshd -D -e', '/var/log/sshd.log');
    await until('sshd', fileHas('var/log/sshd.log', 'Server listening'));
    const r = await sshLogin(host, 'alice', await ticket('alice'), 'id -un; sudo -n id -u');
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out, 'alice\n0\n');
  });

  test('local accounts are not locked out: password login, su to root with its password, root su', async () => {
    const l = await sshLogin(host, 'localadm', LOCAL_PW, 'id -un');
    assert.equal(l.out, 'localadm\n');
    const su = await sshLogin(host, 'localadm', LOCAL_PW, "su -c 'id -u' root", ROOT_PW);
    assert.match(su.out, /\r?\n0\r?\n/, su.out);
    assert.equal(su.code, 0);
    const wrong = await sshLogin(host, 'localadm', LOCAL_PW, "su -c 'id -u' root", 'not-the-password');
    assert.notEqual(wrong.code, 0, 'a wrong root password still fails');
    assert.equal(
      (await host.must("su -s /bin/sh -c 'id -un' localadm")).trim(),
      'localadm',
      'root su needs no password',
    );
  });

  test('upgrade N → N+1: configuration kept, no PAM line twice, agent restarted', async () => {
    const pamConf = join(host.root, 'etc/jmp/pam.conf');
    writeFileSync(pamConf, `${readFileSync(pamConf, 'utf8')}# changed by the administrator\n`);
    const kept = readFileSync(pamConf, 'utf8');
    const wired = new Map(
      TOUCHED.map((f) => [
        f,
        existsSync(join(host.root, 'etc', f)) ? readFileSync(join(host.root, 'etc', f), 'utf8') : '',
      ]),
    );
    const pidBefore = await agentPid();
    writeFileSync(join(host.root, 'var/log/systemctl.log'), '');
    const r = await host.run(
      'apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold /var/tmp/debs/next.deb',
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(await host.must("dpkg-query -W -f '${Version}' jmp-agent"), `${NEXT}-1`);
    assert.equal(readFileSync(pamConf, 'utf8'), kept);
    for (const f of ['pam.d/sshd', 'pam.d/xrdp-sesman', 'pam.d/sudo', 'pam.d/su']) {
      const now = readFileSync(join(host.root, 'etc', f), 'utf8');
      assert.equal(now, wired.get(f), `${f} unchanged by the upgrade`);
      const phases = f === 'pam.d/sshd' || f === 'pam.d/xrdp-sesman' ? 3 : 1;
      assert.equal(now.match(/pam_jmp\.so/g)?.length, phases, `${f}: pam_jmp once per phase`);
    }
    assert.match(
      readFileSync(join(host.root, 'var/log/systemctl.log'), 'utf8'),
      /stop jmp-agent.service[\s\S]*restart jmp-agent.service/,
    );
    assert.notEqual(await agentPid(), pidBefore, 'a new agent process');
    await until('the upgraded agent answers', async () => (await host.run('jmp-agent status')).code === 0).catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${agentLog()}`);
      },
    );
    const login = await sshLogin(host, 'alice', await ticket('alice'), 'sudo -n id -u');
    assert.equal(login.out, '0\n');
  });

  test('remove restores every touched file byte for byte; purge removes the state', async () => {
    const r = await host.run('apt-get remove -y jmp-agent');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /\/etc\/pam\.d\/sshd: restored/);
    assert.match(r.stdout, /\/etc\/pam\.d\/xrdp-sesman: restored/);
    const afterRemove = tree(join(host.root, 'etc'));
    for (const f of TOUCHED) assert.equal(afterRemove.get(f), etcBefore.get(f), `${f} as before the install`);
    assert.ok(existsSync(join(host.root, 'var/lib/jmp/state.json')), 'remove keeps the enrolment');
    const p = await host.run('dpkg --purge jmp-agent');
    assert.equal(p.code, 0, p.stderr + p.stdout);
    assert.deepEqual(diff(etcBefore, tree(join(host.root, 'etc'))), [], '/etc after purge equals /etc before install');
    for (const d of ['var/lib/jmp', 'var/lib/jmp-agent', 'etc/jmp'])
      assert.ok(!existsSync(join(host.root, d)), `${d} removed by purge`);
  });
});
