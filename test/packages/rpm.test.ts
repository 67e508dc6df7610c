// The .rpm: its file list, config files, dependencies and scripts (rpm -qp),
// and an install into a private --root with --nodeps that checks the file
// layout. A full RPM distribution cannot run on this Debian machine, so the
// scripts themselves are exercised by the .deb test (both call maint.sh).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

const REPO = new URL('../..', import.meta.url).pathname;
const VERSION = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version as string;
const RPM = join(REPO, 'dist/packages', `jmp-agent-${VERSION}-1.x86_64.rpm`);
const NODE_FLAGS = readFileSync(join(REPO, 'agent/node-flags'), 'utf8').split('\n')[0]!.trim();
const qp = (...args: string[]): string => execFileSync('rpm', ['-qp', ...args, RPM], { encoding: 'utf8' });

const FILES = [
  '/etc/jmp',
  '/etc/jmp/agent.conf',
  '/etc/jmp/nss.conf',
  '/etc/jmp/pam.conf',
  '/usr/bin/jmp-agent',
  '/usr/lib/jmp-agent',
  '/usr/lib/jmp-agent/jmp-agent-wiring.mjs',
  '/usr/lib/jmp-agent/jmp-agent.mjs',
  '/usr/lib/jmp-agent/jmp_native.node',
  '/usr/lib/jmp-agent/maint.sh',
  '/usr/lib/systemd/system/jmp-agent.service',
  '/usr/lib64/libnss_jmp.so.2',
  '/usr/lib64/security/pam_jmp.so',
  '/usr/share/doc/jmp-agent/README',
  '/usr/share/man/man8/jmp-agent.8.gz',
];

describe('jmp-agent .rpm', () => {
  const root = mkdtempSync(join(tmpdir(), 'jmp-rpm-root-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('rpm -qp: files, config files, version, dependencies, scripts', () => {
    assert.ok(existsSync(RPM), `${RPM} missing: run make packages`);
    assert.deepEqual(qp('-l').trim().split('\n').sort(), [...FILES].sort());
    assert.deepEqual(qp('-c').trim().split('\n').sort(), [
      '/etc/jmp/agent.conf',
      '/etc/jmp/nss.conf',
      '/etc/jmp/pam.conf',
    ]);
    assert.equal(qp('--qf', '%{VERSION}-%{RELEASE}'), `${VERSION}-1`);
    const requires = qp('--requires');
    for (const dep of [/^nodejs >= 1:18$/m, /^openssh-server$/m, /^sudo >= 1\.9\.10$/m, /^pam$/m, /libpam\.so\.0/])
      assert.match(requires, dep);
    const scripts = qp('--scripts');
    assert.match(scripts, /postinstall scriptlet[^\n]*\n\/usr\/lib\/jmp-agent\/maint\.sh configure/);
    assert.match(
      scripts,
      /preuninstall scriptlet[\s\S]*if \[ "\$1" -eq 0 \]; then\n\s+\/usr\/lib\/jmp-agent\/maint\.sh deconfigure/,
    );
    assert.match(scripts, /postuninstall scriptlet[\s\S]*rm -rf \/var\/lib\/jmp-agent/);
  });

  test('installed into a private --root (--nodeps, no scripts): layout, modes, node flags', () => {
    const r = spawnSync('rpm', ['--root', root, '--nodeps', '--noscripts', '-i', RPM], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const f of FILES) assert.ok(existsSync(join(root, f)), `${f} installed`);
    const mode = (f: string): number => statSync(join(root, f)).mode & 0o7777;
    assert.equal(mode('/usr/bin/jmp-agent'), 0o755);
    assert.equal(mode('/usr/lib/jmp-agent/maint.sh'), 0o755);
    assert.equal(mode('/usr/lib64/security/pam_jmp.so'), 0o644);
    assert.equal(mode('/etc/jmp/agent.conf'), 0o644);
    assert.ok(
      readFileSync(join(root, 'usr/bin/jmp-agent'), 'utf8').includes(
        `exec /usr/bin/node ${NODE_FLAGS} /usr/lib/jmp-agent/jmp-agent.mjs "$@"`,
      ),
    );
    const unit = readFileSync(join(root, 'usr/lib/systemd/system/jmp-agent.service'), 'utf8');
    assert.match(
      unit,
      new RegExp(
        `^ExecStart=/usr/bin/node ${NODE_FLAGS} /usr/lib/jmp-agent/jmp-agent\\.mjs run --config /etc/jmp/agent\\.conf$`,
        'm',
      ),
    );
    assert.ok(!unit.includes('@NODE_FLAGS@'));
    // doctor looks for pam_jmp.so where this family keeps PAM modules.
    assert.ok(
      readFileSync(join(root, 'etc/jmp/agent.conf'), 'utf8').includes('"pamModule": "/usr/lib64/security/pam_jmp.so"'),
    );
    // The same bundle, addon and modules as the .deb.
    const elf = readFileSync(join(root, 'usr/lib64/libnss_jmp.so.2')).subarray(0, 4);
    assert.deepEqual([...elf], [0x7f, 0x45, 0x4c, 0x46]);
    assert.equal(
      execFileSync('rpm', ['--root', root, '-q', '--qf', '%{VERSION}', 'jmp-agent'], { encoding: 'utf8' }),
      VERSION,
      "recorded in the private root's rpm database",
    );
  });
});
