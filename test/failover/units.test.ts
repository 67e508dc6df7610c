// The service units of packaging/systemd: systemd itself finds nothing to
// complain about, each one runs the production bundle as its own user with
// its own environment file, drains within its stop timeout, and keeps the
// hardening the design asks for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_DRAIN_SECONDS } from '../../services/api/src/config.js';
import { SSH_DRAIN_SECONDS } from '../../services/ssh/src/config.js';
import { SFTP_DRAIN_SECONDS } from '../../services/sftp/src/config.js';
import { RDP_DRAIN_SECONDS } from '../../services/rdp/src/config.js';
import { DEFAULT_GUARDED_FILES } from '../../agent/src/config.js';

const DIR = fileURLToPath(new URL('../../packaging/systemd/', import.meta.url));
const SERVICES = ['jmp-api', 'jmp-ssh', 'jmp-socket', 'jmp-rdp', 'jmp-sftp'] as const;
/** Drain bounds of services/api, ssh, sftp and rdp main.ts (JMP_DRAIN_SECONDS defaults). */
const DRAIN_SECONDS: Partial<Record<(typeof SERVICES)[number], number>> = {
  'jmp-api': 15,
  'jmp-ssh': 300,
  'jmp-sftp': 300,
  'jmp-rdp': 20,
};
/** Where each one may write (StateDirectory=, below /var/lib). */
const STATE: Record<(typeof SERVICES)[number], string | null> = {
  'jmp-api': null,
  'jmp-ssh': 'jmp/ssh',
  'jmp-socket': null,
  'jmp-rdp': 'jmp/rdp',
  'jmp-sftp': 'jmp/sftp',
};

/** Directive → values of the [Service] section (a directive may repeat). */
function serviceSection(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const s = /^\[(\w+)\]$/.exec(line);
    if (s) {
      section = s[1]!;
      continue;
    }
    if (section !== 'Service') continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq),
      value = line.slice(eq + 1);
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

const one = (m: Map<string, string[]>, k: string) => {
  const v = m.get(k);
  assert.equal(v?.length, 1, `${k} once`);
  return v![0]!;
};

for (const name of SERVICES) {
  const path = `${DIR}${name}.service`;

  test(`${name}: systemd-analyze verify is clean`, () => {
    const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
    assert.equal(r.error, undefined, 'systemd-analyze runs');
    assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'no warnings');
    assert.equal(r.status, 0);
  });

  test(`${name}: systemd-analyze security rates the exposure OK (≤ 2.0)`, () => {
    const r = spawnSync('systemd-analyze', ['security', '--offline=true', path], { encoding: 'utf8' });
    const m = /Overall exposure level for .*: ([\d.]+) (\w+)/.exec(r.stdout);
    assert.ok(m, r.stdout + r.stderr);
    assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]} ${m[2]}`);
  });

  test(`${name}: runs the bundle as its own user, drains within the stop timeout, is hardened`, () => {
    const s = serviceSection(readFileSync(path, 'utf8'));
    assert.equal(one(s, 'User'), name);
    assert.equal(one(s, 'Group'), 'jmp');
    assert.equal(one(s, 'EnvironmentFile'), `/etc/jmp/${name}.env`);
    assert.match(one(s, 'ExecStart'), new RegExp(`^/usr/bin/node /usr/lib/jmp/${name}\\.mjs( serve)?$`));
    assert.equal(one(s, 'KillSignal'), 'SIGTERM');
    const stop = Number(/^(\d+)s$/.exec(one(s, 'TimeoutStopSec'))?.[1]);
    const drain = DRAIN_SECONDS[name];
    if (drain) assert.ok(stop > drain + 5, `TimeoutStopSec ${stop} leaves the ${drain} s drain room`);
    for (const [k, v] of Object.entries({
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      PrivateTmp: 'yes',
      ProtectHome: 'yes',
      PrivateDevices: 'yes',
      CapabilityBoundingSet: '',
      AmbientCapabilities: '',
      RestrictSUIDSGID: 'yes',
      SystemCallArchitectures: 'native',
    }))
      assert.equal(one(s, k), v, k);
    // Writable: only its own state directory, nothing else.
    assert.equal(s.get('ReadWritePaths'), undefined);
    assert.deepEqual(s.get('StateDirectory'), STATE[name] ? [STATE[name]] : undefined);
    assert.equal(s.get('DynamicUser'), undefined);
  });
}

test('jmp-ssh keeps its host key and recordings in its state directory', () => {
  const s = serviceSection(readFileSync(`${DIR}jmp-ssh.service`, 'utf8'));
  const env = s.get('Environment') ?? [];
  for (const v of [
    'JMP_SSH_HOST_KEY=/var/lib/jmp/ssh/ssh_host_ed25519_key',
    'JMP_RECORDING_DIR=/var/lib/jmp/ssh/recordings',
    'JMP_RECORDING_SPOOL_DIR=/var/lib/jmp/ssh/recordings-spool',
  ]) {
    assert.ok(env.includes(v), v);
  }
});

test('jmp-rdp: guacd records below its state directory', () => {
  const s = serviceSection(readFileSync(`${DIR}jmp-rdp.service`, 'utf8'));
  assert.ok((s.get('Environment') ?? []).includes('JMP_RDP_RECORDING_DIR=/var/lib/jmp/rdp/recordings'));
});

test('the drain bounds above are the ones the services use', () => {
  assert.equal(API_DRAIN_SECONDS, DRAIN_SECONDS['jmp-api'], 'jmp-api');
  assert.equal(SSH_DRAIN_SECONDS, DRAIN_SECONDS['jmp-ssh'], 'jmp-ssh');
  assert.equal(SFTP_DRAIN_SECONDS, DRAIN_SECONDS['jmp-sftp'], 'jmp-sftp');
  assert.equal(RDP_DRAIN_SECONDS, DRAIN_SECONDS['jmp-rdp'], 'jmp-rdp');
});

// The agent's unit is a template (its Node flags come from agent/node-flags
// when the packages are built); it runs as root on every target, so it keeps
// only the capabilities that restoring jmp's wiring needs.
test('jmp-agent.service, as the packages install it: systemd-analyze verify is clean, exposure ≤ 3.0 (root, with three capabilities), hardened', () => {
  const flags = readFileSync(fileURLToPath(new URL('../../agent/node-flags', import.meta.url)), 'utf8')
    .split('\n')[0]!
    .trim();
  const text = readFileSync(`${DIR}jmp-agent.service`, 'utf8').replaceAll('@NODE_FLAGS@', flags);
  const dir = mkdtempSync(join(tmpdir(), 'jmp-units-'));
  try {
    const path = join(dir, 'jmp-agent.service');
    writeFileSync(path, text);
    // --man=no: the man page it names is installed by the package, not here.
    const v = spawnSync('systemd-analyze', ['verify', '--man=no', path], { encoding: 'utf8' });
    assert.equal(`${v.stdout}${v.stderr}`.trim(), '', 'no warnings');
    assert.equal(v.status, 0);
    const sec = spawnSync('systemd-analyze', ['security', '--offline=true', path], { encoding: 'utf8' });
    const m = /Overall exposure level for .*: ([\d.]+) (\w+)/.exec(sec.stdout);
    assert.ok(m, sec.stdout + sec.stderr);
    assert.ok(Number(m[1]) <= 3.0, `exposure ${m[1]} ${m[2]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const s = serviceSection(text);
  assert.equal(
    one(s, 'ExecStart'),
    `/usr/bin/node ${flags} /usr/lib/jmp-agent/jmp-agent.mjs run --config /etc/jmp/agent.conf`,
  );
  assert.equal(one(s, 'Restart'), 'on-failure');
  assert.deepEqual(one(s, 'CapabilityBoundingSet').split(' ').sort(), ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER']);
  for (const [k, v] of Object.entries({
    NoNewPrivileges: 'yes',
    ProtectSystem: 'strict',
    PrivateTmp: 'yes',
    ProtectHome: 'yes',
    PrivateDevices: 'yes',
    RestrictSUIDSGID: 'yes',
  }))
    assert.equal(one(s, k), v, k);
  // Writable beyond its state: exactly the wiring files its guard restores.
  assert.deepEqual(one(s, 'ReadWritePaths').split(' ').sort(), DEFAULT_GUARDED_FILES.map((f) => `-${f.path}`).sort());
});
