// The wiring on a copy of this machine's /etc (Debian 12) and on Red Hat
// style files: install → remove restores every byte, installing twice
// changes nothing, an administrator's edit survives removal, and a file that
// cannot be wired leaves every file untouched.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { install, remove, type WiringOptions } from './wire.js';
import { wireNsswitch, unwireNsswitch } from './nsswitch.js';
import { wirePam } from './pam-stack.js';
import { BEGIN } from './markers.js';

const scratch = mkdtempSync(join(tmpdir(), 'jmp-wiring-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const FILES = ['pam.d/sshd', 'pam.d/xrdp-sesman', 'pam.d/sudo', 'pam.d/sudo-i', 'pam.d/su', 'nsswitch.conf'];
/** /etc/pam.d/xrdp-sesman as xrdp 0.9.21 (Debian 12) ships it, for machines without xrdp. */
const XRDP_SESMAN = new URL('../../../test/packages/xrdp-sesman.pam', import.meta.url);

/** A root holding copies of this machine's files (those that exist). */
function debianRoot(name: string): WiringOptions & { lines: string[] } {
  const root = join(scratch, name);
  mkdirSync(join(root, 'etc/pam.d'), { recursive: true });
  mkdirSync(join(root, 'etc/sudoers.d'), { recursive: true });
  mkdirSync(join(root, 'etc/ssh/sshd_config.d'), { recursive: true });
  for (const f of FILES) if (existsSync(`/etc/${f}`)) cpSync(`/etc/${f}`, join(root, 'etc', f));
  if (!existsSync(join(root, 'etc/pam.d/xrdp-sesman'))) cpSync(XRDP_SESMAN, join(root, 'etc/pam.d/xrdp-sesman'));
  if (!existsSync(join(root, 'etc/pam.d/sshd'))) writeFileSync(join(root, 'etc/pam.d/sshd'), '@include common-auth\naccount required pam_nologin.so\n@include common-account\n@include common-session\n');
  const lines: string[] = [];
  return { root, stateDir: join(scratch, `${name}-state`), visudo: existsSync('/usr/sbin/visudo') ? '/usr/sbin/visudo' : null, log: (l) => lines.push(l), lines };
}

function snapshot(root: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of [...FILES, 'sudoers.d/jmp', 'ssh/sshd_config.d/10-jmp.conf']) {
    const p = join(root, 'etc', f);
    if (existsSync(p)) m.set(f, `${(statSync(p).mode & 0o7777).toString(8)} ${readFileSync(p, 'base64')}`);
  }
  return m;
}

describe('install and remove on a copy of /etc', () => {
  test('remove restores every file byte for byte (and mode); created files are gone', () => {
    const o = debianRoot('roundtrip');
    const before = snapshot(o.root);
    install(o);
    const sshd = readFileSync(join(o.root, 'etc/pam.d/sshd'), 'utf8');
    assert.match(sshd, /notingroup jmp-users\n.*pam_jmp\.so/);
    assert.ok(sshd.indexOf('pam_jmp.so') < sshd.indexOf('@include common-auth'), 'pam_jmp before common-auth');
    assert.match(readFileSync(join(o.root, 'etc/nsswitch.conf'), 'utf8'), /^passwd:\s+files jmp/m);
    assert.equal(statSync(join(o.root, 'etc/sudoers.d/jmp')).mode & 0o777, 0o440);
    assert.notDeepEqual(snapshot(o.root), before);
    remove(o);
    assert.deepEqual(snapshot(o.root), before);
    assert.ok(!existsSync(join(o.stateDir, 'wiring.json')), 'state cleared');
  });

  test('installing twice (an upgrade) changes nothing and never duplicates a line', () => {
    const o = debianRoot('twice');
    install(o);
    const once = snapshot(o.root);
    install(o);
    assert.deepEqual(snapshot(o.root), once);
    for (const f of ['pam.d/sshd', 'pam.d/xrdp-sesman', 'pam.d/sudo', 'pam.d/su']) {
      const t = readFileSync(join(o.root, 'etc', f), 'utf8');
      assert.equal(t.split(BEGIN).length - 1, f === 'pam.d/sudo' || f === 'pam.d/su' ? 1 : 3, `${f}: one block per phase`);
    }
    assert.equal(readFileSync(join(o.root, 'etc/nsswitch.conf'), 'utf8').match(/ jmp/g)?.length, 2);
    assert.ok(o.lines.includes('/etc/pam.d/sshd: already wired'));
  });

  test('xrdp-sesman is wired like sshd when present (Linux desktops), and skipped when xrdp is not installed', () => {
    const o = debianRoot('xrdp');
    install(o);
    const t = readFileSync(join(o.root, 'etc/pam.d/xrdp-sesman'), 'utf8');
    const sshd = readFileSync(join(o.root, 'etc/pam.d/sshd'), 'utf8');
    const jmpLines = (text: string) => text.split('\n').filter((l) => /pam_jmp\.so|jmp-users|pam_mkhomedir/.test(l));
    assert.deepEqual(jmpLines(t), jmpLines(sshd), "the same lines as sshd's: non-jmp users skip pam_jmp in every phase");
    assert.equal(t.match(/pam_jmp\.so/g)?.length, 3);
    assert.ok(t.indexOf('pam_jmp.so') < t.indexOf('@include common-auth'), 'pam_jmp before common-auth');
    assert.ok(t.indexOf('pam_env.so') < t.indexOf('pam_jmp.so'), "xrdp's own lines before common-auth stay first");
    remove(o);
    const none = debianRoot('no-xrdp');
    rmSync(join(none.root, 'etc/pam.d/xrdp-sesman'));
    install(none);
    assert.ok(!existsSync(join(none.root, 'etc/pam.d/xrdp-sesman')), 'not created');
    remove(none);
    assert.ok(!existsSync(join(none.root, 'etc/pam.d/xrdp-sesman')));
  });

  test("an administrator's edit survives removal; only jmp's lines go", () => {
    const o = debianRoot('edited');
    const pristine = readFileSync(join(o.root, 'etc/pam.d/su'));
    install(o);
    const p = join(o.root, 'etc/pam.d/su');
    writeFileSync(p, `${readFileSync(p, 'utf8')}# local change\n`);
    remove(o);
    assert.equal(readFileSync(p, 'utf8'), `${pristine.toString()}# local change\n`);
    assert.ok(o.lines.some((l) => l.startsWith('/etc/pam.d/su: changed since install; removed only')), o.lines.join('\n'));
  });

  test('a file that cannot be wired leaves every file untouched', () => {
    const o = debianRoot('unwireable');
    writeFileSync(join(o.root, 'etc/nsswitch.conf'), 'passwd: ldap\ngroup: files\n');
    const before = snapshot(o.root);
    assert.throws(() => install(o), /the passwd line has no "files" source/);
    assert.deepEqual(snapshot(o.root), before);
  });
});

describe('text edits', () => {
  test('Red Hat stacks: pam_jmp before the system-auth/password-auth substack', () => {
    const rh = '#%PAM-1.0\nauth       substack     password-auth\naccount    required     pam_nologin.so\naccount    include      password-auth\nsession    include      password-auth\n';
    const out = wirePam(rh, 'sshd', 'sshd');
    assert.ok(out.indexOf('pam_jmp.so') < out.indexOf('auth       substack'));
    assert.ok(out.indexOf('account required pam_jmp.so') < out.indexOf('account    include'));
    const su = wirePam('auth sufficient pam_rootok.so\nauth substack system-auth\n', 'su', 'su');
    assert.ok(su.indexOf('pam_rootok') < su.indexOf('pam_jmp'), 'root keeps su without a question');
    assert.throws(() => wirePam('auth required pam_unix.so\n', 'sudo', '/etc/pam.d/sudo'), /no "@include common-auth"/);
  });

  test('nsswitch: jmp right after files, other sources and spacing kept, and back', () => {
    const t = 'passwd:         files systemd\ngroup:\tcompat [NOTFOUND=return] ldap\nshadow: files\n';
    const w = wireNsswitch(t, 'n');
    assert.equal(w, 'passwd:         files jmp systemd\ngroup:\tcompat jmp [NOTFOUND=return] ldap\nshadow: files\n');
    assert.equal(wireNsswitch(w, 'n'), w);
    assert.equal(unwireNsswitch(w), t);
  });
});
