// The jump shell's `devices` and `device <name>` through a real jmp-ssh
// (ssh2 client → jmp-ssh → legacy-algorithm device), on a real jmp-api.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '@jmp/contract';
import { startApi, addUser, addProject, addService, addRole, type TestApi } from '../../services/api/test/harness.js';
import { startJmpSsh, login, shell, type RunningSsh } from '../../services/ssh/test/jmp-ssh.js';
import { deviceKeyAt, registerDeviceKey } from '../../services/ssh/src/device/key.js';
import { startLegacySshd, type LegacySshd } from './legacy-sshd.js';

const PASSWORD = 'Jump-Sh3ll-Dev1ce';
let api: TestApi;
let ssh: RunningSsh;
let sshd: LegacySshd;
let dir: string;
let ops: { username: string };
let nobody: { username: string };

before(async () => {
  api = await startApi();
  dir = mkdtempSync(join(tmpdir(), 'jmp-device-shell-'));
  const keyPath = join(dir, 'device_key');
  const client = new ApiClient({ baseUrl: api.url, authorization: () => `Bearer ${api.serviceToken('ssh')}` });
  await registerDeviceKey(client, deviceKeyAt(keyPath));
  ssh = await startJmpSsh(api, { deviceKeyPath: keyPath });
  sshd = await startLegacySshd('netadmin', PASSWORD);
  const A = (m: string, p: string, body?: unknown) =>
    api.call(m, p, { body, auth: `Bearer ${api.serviceToken('admin')}` });
  const s = await addService(api.db, (await addProject(api.db)).id);
  ops = await addUser(api.db, { password: 'ops password 1' });
  await addRole(api.db, (ops as { id: number } & typeof ops).id, 'service', s.id, 'ops');
  nobody = await addUser(api.db, { password: 'nobody password 1' });
  const profiles = (await A('GET', '/v1/device-profiles')).body.items as Array<{ id: number; name: string }>;
  const hostKey = readFileSync(join(sshd.dir, 'host_rsa.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  const d = await A('POST', '/v1/devices', {
    name: 'sw-jump',
    address: '127.0.0.1',
    port: sshd.port,
    protocol: 'ssh',
    profileId: profiles.find((x) => x.name === 'legacy-ssh')!.id,
    serviceId: s.id,
    hostKey,
  });
  await A('POST', `/v1/devices/${d.body.id}/accounts`, { name: 'netadmin', secret: PASSWORD });
});

after(async () => {
  await ssh?.close();
  await sshd?.stop();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("the jump shell lists the person's devices and opens one; back in the menu after; refused without the right", async () => {
  const { client } = await login(ssh.port, ops.username, { password: 'ops password 1' });
  const sh = await shell(client);
  await sh.until(/\$ $/);
  sh.send('devices\r');
  await sh.until(/sw-jump\s+ssh\s+production/);
  sh.send('device sw-jump\r');
  await sh.until(/sw-lab# $/);
  sh.send('show version\r');
  await sh.until(/Lab IOS 15\.2/);
  sh.send('exit\r');
  await sh.until(/Back in jmp\./);
  assert.ok(!sh.out().includes(PASSWORD));
  client.end();

  const other = await login(ssh.port, nobody.username, { password: 'nobody password 1' });
  const sh2 = await shell(other.client);
  await sh2.until(/\$ $/);
  sh2.send('devices\r');
  await sh2.until(/no network devices/);
  sh2.send('device sw-jump\r');
  await sh2.until(/no device right for .* on sw-jump; request access in jmp/);
  await sh2.until(/Back in jmp\./);
  other.client.end();
  assert.ok(sshd.received().includes('show version'));
});
