// `jmp-ssh device-key rotate` against a real jmp-api: every sealed secret is
// re-encrypted to the new key in place, the old key file is kept, the
// rotation is audited, and a running jmp-ssh picks up the new file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ApiClient, contract as c } from '@jmp/contract';
import { openDeviceSecret } from '@jmp/contract/device-secrets';
import { startApi, addUser, addProject, addService, addRole, type TestApi } from '../../services/api/test/harness.js';
import { deviceKeyAt, registerDeviceKey } from '../../services/ssh/src/device/key.js';
import { rotateDeviceKey } from '../../services/ssh/src/device/rotate.js';

let api: TestApi;
let client: ApiClient;
let dir: string;
const A = (m: string, p: string, body?: unknown) =>
  api.call(m, p, { body, auth: `Bearer ${api.serviceToken('admin')}` });

before(async () => {
  api = await startApi();
  client = new ApiClient({ baseUrl: api.url, authorization: () => `Bearer ${api.serviceToken('ssh')}` });
  dir = mkdtempSync(join(tmpdir(), 'jmp-device-key-'));
});
after(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('rotation re-encrypts every secret to a new key file, keeps the old one, and is audited', async () => {
  const path = join(dir, 'device_key');
  const first = deviceKeyAt(path);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal((await registerDeviceKey(client, first)).version, 1);

  const p = await addProject(api.db);
  const s = await addService(api.db, p.id);
  const ops = await addUser(api.db);
  await addRole(api.db, ops.id, 'service', s.id, 'ops');
  const profileId = (await A('GET', '/v1/device-profiles')).body.items[0].id;
  const secrets = ['first-S3cret', 'second-S3cret'];
  for (const [i, secret] of secrets.entries()) {
    const d = await A('POST', '/v1/devices', {
      name: `rtr-${i}`,
      address: '10.0.0.1',
      protocol: 'ssh',
      profileId,
      serviceId: s.id,
    });
    await A('POST', `/v1/devices/${d.body.id}/accounts`, { name: 'admin', secret });
  }

  assert.deepEqual(await rotateDeviceKey(client, path), { version: 2, reencrypted: 2 });
  assert.ok(existsSync(`${path}.v1`), 'the old key is kept');
  assert.ok(!existsSync(`${path}.next`));
  const second = deviceKeyAt(path);
  assert.notEqual(
    second.export({ format: 'jwk' }).x,
    first.export({ format: 'jwk' }).x,
    'the running process reads the new file',
  );
  for (const [i, secret] of secrets.entries()) {
    const g = (
      await client.request('POST', '/v1/device-sessions', c.DeviceSessionGrant, {
        id: randomUUID(),
        user: ops.username,
        device: `rtr-${i}`,
      })
    ).data!;
    assert.equal(g.account.keyVersion, 2);
    const b = { deviceId: g.device.id, account: 'admin', keyVersion: 2 };
    assert.equal(openDeviceSecret(second, Buffer.from(g.account.sealed, 'base64'), b), secret);
    assert.throws(() => openDeviceSecret(first, Buffer.from(g.account.sealed, 'base64'), b));
  }
  const ev = await api.db('audit_events').where({ action: 'device_key.rotated' }).first();
  assert.equal(ev.actor, 'service:ssh');
  assert.equal(ev.data.reencrypted, 2);
  // The new key is the registered one: a restart registers nothing new; the old one is refused.
  const again = await registerDeviceKey(client, second);
  assert.deepEqual([again.version, again.created], [2, false]);
  await assert.rejects(registerDeviceKey(client, first), /not the registered key/);
});
