// Network devices end to end in jmp-api: the admin resources, secrets sealed on
// arrival and never readable, the device right (defaults, grants, refusals
// before any secret leaves), the device-key registration and rotation, and a
// pg_dump plus jmp-api's master secret that reveal no device password.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, hkdfSync, randomUUID } from 'node:crypto';
import {
  generateDeviceKeyPair,
  openDeviceSecret,
  parseDevicePrivateKey,
  sealDeviceSecret,
} from '@jmp/contract/device-secrets';
import { startApi, addUser, addProject, addService, addRole, webLogin, type TestApi } from './harness.js';

const SECRET = 'Sw1tch-P@ss-7c1e';
let api: TestApi;
let bearer: string;
let ssh: string;
const key = generateDeviceKeyPair();
const priv = parseDevicePrivateKey(key.privatePem);
let serviceId: number;
let deviceId: number;
let accountId: number;

const A = (method: string, path: string, body?: unknown) => api.call(method, path, { body, auth: bearer });
const S = (method: string, path: string, body?: unknown) => api.call(method, path, { body, auth: ssh });

before(async () => {
  api = await startApi();
  bearer = `Bearer ${api.serviceToken('admin')}`;
  ssh = `Bearer ${api.serviceToken('ssh')}`;
  const p = await addProject(api.db);
  serviceId = (await addService(api.db, p.id)).id;
});
after(async () => api.close());

test('devices, accounts and profiles: created by an administrator; a secret needs the device key first', async () => {
  const profiles = await A('GET', '/v1/device-profiles');
  assert.equal(profiles.status, 200);
  const legacy = profiles.body.items.find((p: { name: string }) => p.name === 'legacy-ssh');
  assert.deepEqual(legacy.spec.algorithms.kex, ['diffie-hellman-group14-sha1', 'diffie-hellman-group1-sha1']);
  assert.ok(legacy.spec.rules.some((r: { name: string }) => r.name === 'write erase'));
  const bad = await A('POST', '/v1/device-profiles', { name: 'x', spec: { rules: [{ name: 'r', pattern: '(?=x)' }] } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error.message, /body\.spec\.rules\.0\.pattern: RE2 cannot compile/);

  const d = await A('POST', '/v1/devices', {
    name: 'SW-Core-01',
    address: '10.9.0.2',
    protocol: 'ssh',
    profileId: legacy.id,
    serviceId,
  });
  assert.equal(d.status, 201, JSON.stringify(d.body));
  assert.equal(d.body.name, 'sw-core-01');
  assert.equal(d.body.port, 22);
  deviceId = d.body.id;
  assert.equal(
    (await A('POST', '/v1/devices', { name: 'sw-core-01', address: 'x', protocol: 'ssh', profileId: legacy.id }))
      .status,
    409,
  );
  assert.equal(
    (await A('POST', '/v1/devices', { name: 'sw2', address: 'x', protocol: 'rlogin', profileId: legacy.id })).status,
    400,
  );

  const noKey = await A('POST', `/v1/devices/${deviceId}/accounts`, { name: 'admin', secret: SECRET });
  assert.equal(noKey.status, 409);
  assert.match(noKey.body.error.message, /no device key is registered yet/);
  const acc = await A('POST', `/v1/devices/${deviceId}/accounts`, { name: 'admin' });
  assert.equal(acc.status, 201);
  accountId = acc.body.accounts[0].id;
  assert.equal(acc.body.accounts[0].secretSet, false);

  // jmp-ssh registers its key: the first becomes version 1, the same again is a no-op, another is refused.
  const reg = await S('POST', '/v1/device-keys', { publicKey: key.publicKey });
  assert.deepEqual(reg.body, { version: 1, publicKey: key.publicKey, created: true });
  assert.equal((await S('POST', '/v1/device-keys', { publicKey: key.publicKey })).body.created, false);
  const other = await S('POST', '/v1/device-keys', { publicKey: generateDeviceKeyPair().publicKey });
  assert.equal(other.status, 409);
  assert.match(other.body.error.message, /share the same JMP_DEVICE_KEY/);
  assert.equal((await A('POST', '/v1/device-keys', { publicKey: key.publicKey })).status, 403);

  const set = await A('PUT', `/v1/devices/${deviceId}/accounts/${accountId}/secret`, { secret: SECRET });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.equal(set.body.secretSet, true);
  assert.equal(set.body.keyVersion, 1);
  const line = await A('PUT', `/v1/devices/${deviceId}/accounts/${accountId}/secret`, { secret: 'a\nb' });
  assert.equal(line.status, 400);
  const got = await A('GET', `/v1/devices/${deviceId}`);
  assert.ok(!JSON.stringify(got.body).includes(SECRET));
  assert.equal(got.body.accounts[0].secretSet, true);
  const list = await A('GET', '/v1/devices?q=core');
  assert.equal(list.body.total, 1);
  assert.ok(!JSON.stringify(list.body).includes(SECRET));
  const audit = await api.db('audit_events').where({ action: 'device.secret_set' }).first();
  assert.ok(audit, 'setting a secret is audited');
  assert.ok(!JSON.stringify(await api.db('audit_events').select('data')).includes(SECRET));
});

test('the device right: a person without it is refused before any secret leaves; ops and grants open it', async () => {
  const nobody = await addUser(api.db);
  const r = await S('POST', '/v1/device-sessions', { id: randomUUID(), user: nobody.username, device: 'sw-core-01' });
  assert.equal(r.status, 403);
  assert.match(r.body.error.message, /no device right for .* on sw-core-01; request access/);
  assert.equal(r.body.account, undefined);
  assert.ok(await api.db('audit_events').where({ action: 'device.denied' }).first());
  assert.equal((await S('GET', `/v1/my-devices?user=${nobody.username}`)).body.items.length, 0);

  const owner = await addUser(api.db);
  await addRole(api.db, owner.id, 'service', serviceId, 'owner');
  assert.equal(
    (await S('POST', '/v1/device-sessions', { id: randomUUID(), user: owner.username, device: 'sw-core-01' })).status,
    403,
    'an owner opens only an offline device by default',
  );

  const ops = await addUser(api.db);
  await addRole(api.db, ops.id, 'service', serviceId, 'ops');
  const id = randomUUID();
  const ok = await S('POST', '/v1/device-sessions', { id, user: ops.username, device: 'sw-core-01' });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  assert.equal(ok.body.device.address, '10.9.0.2');
  assert.equal(ok.body.mayPinHostKey, false, 'not an administrator');
  assert.equal(ok.body.profile.name, 'legacy-ssh');
  const b = { deviceId, account: 'admin', keyVersion: ok.body.account.keyVersion };
  assert.equal(openDeviceSecret(priv, Buffer.from(ok.body.account.sealed, 'base64'), b), SECRET);
  const row = await api.db('sessions').where({ id }).first();
  assert.equal(row.device_id, deviceId);
  assert.equal((await S('GET', `/v1/my-devices?user=${ops.username}`)).body.items[0].name, 'sw-core-01');
  // Only jmp-ssh asks for device sessions.
  assert.equal(
    (await A('POST', '/v1/device-sessions', { id: randomUUID(), user: ops.username, device: 'sw-core-01' })).status,
    403,
  );

  // A device grant on the service (as an approved request makes) opens it for the owner.
  const g = await A('POST', '/v1/grants', {
    subjectType: 'user',
    subjectId: owner.id,
    scopeType: 'service',
    scopeId: serviceId,
    right: 'device',
  });
  assert.equal(g.status, 201, JSON.stringify(g.body));
  const viaGrant = await S('POST', '/v1/device-sessions', {
    id: randomUUID(),
    user: owner.username,
    device: 'sw-core-01',
  });
  assert.equal(viaGrant.status, 201);
  assert.match(viaGrant.body.reason, /^grant #\d+: device/);

  // Host key pinning on first use needs an administrator's session.
  const pin = await S('POST', '/v1/device-sessions/host-key', { session: id, hostKey: 'ssh-rsa AAAAB3NzaC1yc2E' });
  assert.equal(pin.status, 403);
  const admin = await addUser(api.db, { is_admin: true });
  await addRole(api.db, admin.id, 'service', serviceId, 'ops');
  const as = await S('POST', '/v1/device-sessions', { id: randomUUID(), user: admin.username, device: 'sw-core-01' });
  assert.equal(as.body.mayPinHostKey, true);
  assert.equal(
    (
      await S('POST', '/v1/device-sessions/host-key', {
        session: as.body.session,
        hostKey: 'ssh-rsa AAAAB3NzaC1yc2E x',
      })
    ).status,
    204,
  );
  assert.equal((await A('GET', `/v1/devices/${deviceId}`)).body.hostKey, 'ssh-rsa AAAAB3NzaC1yc2E');
  assert.equal(
    (await S('POST', '/v1/device-sessions/host-key', { session: as.body.session, hostKey: 'ssh-rsa AAAA' })).status,
    409,
  );
  const ev = await S('POST', '/v1/device-sessions/events', {
    session: id,
    event: 'login_failed',
    detail: 'Login incorrect',
  });
  assert.equal(ev.status, 201);
  assert.ok(await api.db('audit_events').where({ action: 'device.login_failed' }).first());
});

test('the device right is requested and approved like root: plain ops cannot approve, the ops lead can', async () => {
  const pw = 'device request password';
  const login = async (over: Parameters<typeof addUser>[1] = {}) => {
    const u = await addUser(api.db, { password: pw, ...over });
    return { ...u, h: (await webLogin(api, u.username, pw)).cookie };
  };
  const asker = await login();
  const ops = await login();
  const lead = await login();
  await addRole(api.db, ops.id, 'service', serviceId, 'ops');
  await addRole(api.db, lead.id, 'service', serviceId, 'ops', true);
  const open = () => S('POST', '/v1/device-sessions', { id: randomUUID(), user: asker.username, device: 'sw-core-01' });
  assert.equal((await open()).status, 403);
  const r = await api.call('POST', '/v1/requests', {
    headers: asker.h,
    body: {
      scope: { type: 'service', id: serviceId },
      right: 'device',
      durationSeconds: 3600,
      reason: 'change window',
    },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const byOps = await api.call('POST', `/v1/requests/${r.body.id}/approve`, { headers: ops.h, body: {} });
  assert.equal(byOps.status, 403, 'plain ops may not approve a device request');
  assert.match(byOps.body.error.message, /ops lead/);
  const ok = await api.call('POST', `/v1/requests/${r.body.id}/approve`, { headers: lead.h, body: {} });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const g = await open();
  assert.equal(g.status, 201, JSON.stringify(g.body));
  assert.match(g.body.reason, /^grant #\d+: device for .* until /);
});

/** An X25519 private key made of 32 raw bytes (PKCS#8 DER). */
const x25519 = (raw: Buffer) =>
  createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), raw]),
    format: 'der',
    type: 'pkcs8',
  });

test('a pg_dump of the database plus jmp-api master secret reveal no device password', () => {
  const url = new URL(api.config.databaseUrl!);
  const dump = execFileSync(
    'pg_dump',
    ['-h', url.hostname, '-p', url.port || '5432', '-U', url.username || 'postgres', url.pathname.slice(1)],
    {
      maxBuffer: 64 << 20,
    },
  );
  const master = Buffer.from(api.config.secretKey!, 'hex');
  const haystack = Buffer.concat([dump, Buffer.from(api.config.secretKey!)]);
  for (const form of [SECRET, Buffer.from(SECRET).toString('base64'), Buffer.from(SECRET).toString('hex')])
    assert.ok(!haystack.includes(form), `the dump holds the password as ${form}`);
  const blobs = [...dump.toString('utf8').matchAll(/\\\\x([0-9a-f]{100,})/g)].map((m) => Buffer.from(m[1]!, 'hex'));
  assert.ok(blobs.length >= 1, 'the sealed secret is in the dump');
  const b = { deviceId, account: 'admin', keyVersion: 1 };
  assert.equal(openDeviceSecret(priv, blobs[0]!, b), SECRET, 'it is the real ciphertext');
  // Every key jmp-api derives from its master secret, taken as the device key, opens nothing.
  for (const info of ['at-rest encryption', 'web session', 'service token', 'desktop token', 'device secrets']) {
    const k = x25519(Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `jmp ${info}`, 32)));
    assert.throws(() => openDeviceSecret(k, blobs[0]!, b), /does not open/);
  }
});

test('key rotation re-encrypts every sealed secret in place, audited; a stale one is refused', async () => {
  const sealed = await S('GET', '/v1/device-keys/sealed');
  assert.equal(sealed.status, 200);
  assert.equal(sealed.body.version, 1);
  assert.equal((await A('GET', '/v1/device-keys/sealed')).status, 403);
  const next = generateDeviceKeyPair();
  const items = sealed.body.items.map(
    (i: { accountId: number; deviceId: number; account: string; sealed: string; keyVersion: number }) => {
      const plain = openDeviceSecret(priv, Buffer.from(i.sealed, 'base64'), { ...i });
      const again = sealDeviceSecret(next.publicKey, plain, {
        deviceId: i.deviceId,
        account: i.account,
        keyVersion: 2,
      });
      return { accountId: i.accountId, sealed: again.toString('base64'), previous: i.sealed };
    },
  );
  const wrongVersion = items.map((i: { accountId: number; previous: string }) => ({
    ...i,
    sealed: sealDeviceSecret(next.publicKey, 'x', { deviceId, account: 'admin', keyVersion: 3 }).toString('base64'),
  }));
  const wv = await S('POST', '/v1/device-keys/rotate', {
    fromVersion: 1,
    publicKey: next.publicKey,
    items: wrongVersion,
  });
  assert.equal(wv.status, 400);
  const r = await S('POST', '/v1/device-keys/rotate', { fromVersion: 1, publicKey: next.publicKey, items });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { version: 2, reencrypted: 1 });
  const ev = await api.db('audit_events').where({ action: 'device_key.rotated' }).first();
  assert.equal(ev.data.reencrypted, 1);
  const row = await api.db('device_accounts').where({ id: accountId }).first();
  assert.equal(row.key_version, 2);
  const b = { deviceId, account: 'admin', keyVersion: 2 };
  assert.equal(openDeviceSecret(parseDevicePrivateKey(next.privatePem), row.sealed_secret, b), SECRET);
  assert.throws(() => openDeviceSecret(priv, row.sealed_secret, b));
  const stale = await S('POST', '/v1/device-keys/rotate', { fromVersion: 1, publicKey: next.publicKey, items });
  assert.equal(stale.status, 409);
  // New secrets are sealed to the new key.
  await A('PUT', `/v1/devices/${deviceId}/accounts/${accountId}/secret`, { secret: SECRET });
  assert.equal((await api.db('device_accounts').where({ id: accountId }).first()).key_version, 2);
});
