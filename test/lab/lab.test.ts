// Self-test of the lab: two hosts with the scripted responder as their agent,
// real sshd + pam_jmp + libnss_jmp + sudo. Run as root:
//   node --import tsx --test test/lab/lab.test.ts      (or make lab-test)
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  LAB_SH,
  REPO_DIR,
  labLeftovers,
  pidAlive,
  responderCommand,
  startLab,
  writeNssCache,
  writeResponderRules,
  type Lab,
  type LabHost,
} from './lab.js';

const GOOD = 'tkt-good-7f3a';
const alice = { name: 'alice', uid: 200001 };
const groups = [
  { name: 'alice', gid: 200001 },
  { name: 'jmp-users', gid: 199999, members: ['alice'] },
];

function assertClean(): void {
  const left = labLeftovers();
  assert.deepEqual(left, { namespaces: [], links: [], overlays: [], processes: [], stateDir: false });
}

describe('lab', { concurrency: false }, () => {
  let lab: Lab;
  let h1: LabHost;
  let h2: LabHost;
  const pidsSeen: number[] = [];

  before(async () => {
    lab = await startLab({
      hosts: ['h1', 'h2'],
      agentCommand: responderCommand(),
      // Before the daemons start: h1 knows alice, h2 knows nobody.
      prepare: (h) => {
        if (h.name === 'h1') {
          writeNssCache(h, { passwd: [alice], group: groups });
          writeResponderRules(h, { tickets: { [GOOD]: 'alice' }, sudo: { alice: true } });
        } else writeResponderRules(h, {});
      },
    });
    h1 = lab.host('h1');
    h2 = lab.host('h2');
    const perHost = lab.setupMs / lab.hosts.length;
    console.log(
      `lab setup: ${lab.hosts.length} hosts in ${lab.setupMs.toFixed(0)} ms (${perHost.toFixed(0)} ms per host)`,
    );
  });

  after(async () => {
    await lab?.stop();
  });

  test('hosts are up in well under 2 s each, with their own address, key and namespaces', async () => {
    assert.ok(lab.setupMs / lab.hosts.length < 2000, `setup took ${lab.setupMs} ms`);
    assert.equal(h1.address, '10.231.0.11');
    assert.equal(h2.address, '10.231.0.12');
    assert.equal(h1.sshPort, 22);
    assert.match(h1.sshHostKey, /^ssh-ed25519 AAAA\S+ root@h1$/);
    assert.notEqual(h1.sshHostKey, h2.sshHostKey);
    for (const h of [h1, h2]) {
      const r = await h.exec('hostname; ip -4 -o addr show dev eth0; ip route; ls /run/jmp');
      assert.equal(r.code, 0, r.stderr);
      const [name, addr, ...rest] = r.stdout.trim().split('\n');
      assert.equal(name, h.name);
      assert.match(addr!, new RegExp(`inet ${h.address.replace(/\./g, '\\.')}/24`));
      assert.ok(!rest.some((l) => l.startsWith('default')), 'no default route');
      assert.ok(rest.includes('agent.sock'), 'agent socket in the private /run/jmp');
      const p = h.pids();
      pidsSeen.push(p.anchor, p.sshd, p.agent!);
    }
  });

  test('NSS: alice resolves through jmp inside h1 only, and is not in /etc/passwd', async () => {
    const viaNetns = await h1.netnsExec(['getent', 'passwd', 'alice']);
    assert.equal(viaNetns.code, 0, viaNetns.stderr);
    assert.equal(viaNetns.stdout, 'alice:*:200001:200001::/home/alice:/bin/bash\n');
    const viaNsenter = await h1.exec(['getent', 'group', 'jmp-users']);
    assert.equal(viaNsenter.stdout, 'jmp-users:*:199999:alice\n');
    const root = spawnSync('getent', ['passwd', 'alice']);
    assert.equal(root.status, 2, 'the root namespace does not know alice');
    assert.equal((await h2.exec(['getent', 'passwd', 'alice'])).code, 2, 'h2 does not know alice');
    const files = await h1.exec(['getent', '-s', 'files', 'passwd', 'alice']);
    assert.equal(files.code, 2, 'alice is not in /etc/passwd');
  });

  test('ssh: alice logs in to h1 by answering the jmp ticket prompt', async () => {
    const t0 = performance.now();
    const r = await h1.ssh('alice', 'id -un; id -u; cd && pwd && stat -c "%u %a" .; hostname', { ticket: GOOD });
    console.log(`ssh login + command: ${(performance.now() - t0).toFixed(0)} ms`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.prompts, ['jmp ticket: ']);
    assert.equal(r.stdout, 'alice\n200001\n/home/alice\n200001 700\nh1\n');
    // pam_mkhomedir made the home in h1's private /home.
    assert.equal(statSync(join(h1.homeDir, 'alice')).uid, 200001);
    assert.ok(!existsSync('/home/alice'), 'not in the root namespace');
    const ops = h1.responderLog().map((e) => `${e.op}:${e.status}`);
    assert.deepEqual(ops.slice(0, 3), ['auth:allow', 'account:allow', 'session_open:allow']);
    const auth = h1.responderLog()[0]!;
    assert.equal(auth.fields.service, 'sshd');
    assert.equal(auth.fields.rhost, lab.bridgeAddress);
  });

  test('ssh: a wrong ticket is refused and the reason reaches the client', async () => {
    const r = await h1.ssh('alice', 'id -un', { ticket: 'tkt-wrong' });
    assert.equal(r.code, 255);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /ticket rejected for alice on h1/);
    assert.match(r.stderr, /Permission denied \(keyboard-interactive\)/);
    const last = h1
      .responderLog()
      .filter((e) => e.op === 'auth')
      .at(-1)!;
    assert.equal(last.status, 'deny');
  });

  test('ssh: a user NSS does not know is refused, even with a ticket the agent accepts', async () => {
    // sshd still runs PAM for an invalid user (so pam_jmp asks the agent),
    // but refuses the login whatever PAM says.
    h2.writeResponderRules({ tickets: { [GOOD]: 'alice' } });
    const r = await h2.ssh('alice', 'id -un', { ticket: GOOD });
    assert.equal(r.code, 255);
    assert.equal(r.stdout, '');
    assert.match(readFileSync(h2.sshdLog, 'utf8'), /Invalid user alice from/);
  });

  test('sudo -n: root when the agent allows op sudo, refused when it denies', async () => {
    const ok = await h1.ssh('alice', 'sudo -n id -u', { ticket: GOOD });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, '0\n');
    const sudo = h1
      .responderLog()
      .filter((e) => e.op === 'sudo')
      .at(-1)!;
    assert.equal(sudo.status, 'allow');
    assert.equal(sudo.fields.user, 'alice');
    assert.equal(sudo.fields.service, 'sudo');

    // Revoked: the very next sudo asks again (timestamp_timeout=0) and fails.
    h1.writeResponderRules({ tickets: { [GOOD]: 'alice' }, sudo: { alice: false } });
    const no = await h1.ssh('alice', 'sudo -n id -u; echo "rc=$?"', { ticket: GOOD });
    assert.equal(no.code, 0, no.stderr);
    assert.match(no.stdout, /^rc=1$/m);
    assert.doesNotMatch(no.stdout, /^0$/m);
    assert.equal(
      h1
        .responderLog()
        .filter((e) => e.op === 'sudo')
        .at(-1)!.status,
      'deny',
    );
    h1.writeResponderRules({ tickets: { [GOOD]: 'alice' }, sudo: { alice: true } });
  });

  test('restartSshd keeps the host key and logins work again', async () => {
    const before = h1.pids().sshd;
    await h1.restartSshd();
    assert.notEqual(h1.pids().sshd, before);
    assert.ok(!pidAlive(before), 'the old listener is gone');
    const key = readFileSync(join(h1.etcDir, 'ssh/ssh_host_ed25519_key.pub'), 'utf8').trim();
    assert.equal(key, h1.sshHostKey);
    const r = await h1.ssh('alice', 'id -un', { ticket: GOOD });
    assert.equal(r.code, 0, r.stderr);
    pidsSeen.push(h1.pids().sshd);
  });

  test('stop() leaves no namespaces, links, overlays, processes or files', async () => {
    await lab.stop();
    assertClean();
    for (const p of pidsSeen) assert.ok(!pidAlive(p), `pid ${p} is gone`);
    await lab.stop(); // idempotent
  });
});

describe('lab after a crash', { concurrency: false }, () => {
  test('a killed owner leaves a lab behind; the next startLab removes it', async () => {
    // A child builds a lab and is SIGKILLed (no exit handler runs).
    const script = `
      import { startLab } from ${JSON.stringify(join(REPO_DIR, 'test/lab/lab.ts'))};
      await startLab({ hosts: ['c1'], agentCommand: null });
      process.kill(process.pid, 'SIGKILL');`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_DIR,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const signal = await new Promise((r) => child.on('exit', (_c, s) => r(s)));
    assert.equal(signal, 'SIGKILL');
    const left = labLeftovers();
    assert.deepEqual(left.namespaces, ['jmp-c1']);
    assert.ok(left.processes.length >= 2, 'its sshd and namespace holder still run');

    const lab = await startLab({ hosts: ['h1'], agentCommand: null });
    try {
      assert.deepEqual(labLeftovers().namespaces, ['jmp-h1']);
      for (const p of left.processes) assert.ok(!pidAlive(p), `old pid ${p} is gone`);
    } finally {
      await lab.stop();
    }
    assertClean();
  });

  test('lab.sh down after a crash also works from the command line, and is idempotent', async () => {
    const env = { ...process.env, JMP_LAB_AGENT_CMD: 'responder' };
    const up = spawnSync(LAB_SH, ['up', '1'], { encoding: 'utf8', env });
    assert.equal(up.status, 0, up.stderr);
    assert.match(up.stdout, /^h1 +up +10\.231\.0\.11 .*agent=pid \d+\+socket/m);
    const again = spawnSync(LAB_SH, ['up', '1'], { encoding: 'utf8', env });
    assert.equal(again.status, 0, again.stderr);
    for (let i = 0; i < 2; i++) assert.equal(spawnSync(LAB_SH, ['down']).status, 0);
    assertClean();
  });
});
