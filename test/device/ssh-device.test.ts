// Network devices over SSH end to end: real jmp-api (Postgres, Redis), jmp-ssh's
// device session code, and a device that is OpenSSH restricted to legacy
// algorithms with a device-like CLI as its account's shell.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { ServerChannel } from 'ssh2';
import { ApiClient, contract as c } from '@jmp/contract';
import { generateDeviceKeyPair, parseDevicePrivateKey } from '@jmp/contract/device-secrets';
import { startApi, addUser, addProject, addService, addRole, type TestApi } from '../../services/api/test/harness.js';
import { deviceSession } from '../../services/ssh/src/device/device-session.js';
import { connectSshDevice } from '../../services/ssh/src/device/ssh-device.js';
import { DeviceError } from '../../services/ssh/src/device/errors.js';
import { startLegacySshd, type LegacySshd } from './legacy-sshd.js';
import { Person, assertSecretNowhere, deviceSessionCtx } from './session.js';

const PASSWORD = 'N3tw0rk-Dev!ce-9q';
const key = generateDeviceKeyPair();
const deviceKey = parseDevicePrivateKey(key.privatePem);
let api: TestApi;
let sshd: LegacySshd;
let client: ApiClient;
let recDir: string;
const logLines: string[] = [];
let ops: { username: string };
let nobody: { username: string };
let admin: { username: string };
let deviceId: number;
let accountId: number;

const A = (m: string, p: string, body?: unknown) =>
  api.call(m, p, { body, auth: `Bearer ${api.serviceToken('admin')}` });

const sessionCtx = (user: string) => deviceSessionCtx(client, user, recDir, logLines);
/** A device session for `user` over the person's side of the channel. */
const open = (person: Person, device: string, user: string, key = deviceKey) =>
  deviceSession(person as unknown as ServerChannel, device, undefined, sessionCtx(user), key);

async function grantFor(user: string) {
  return (
    await client.request('POST', '/v1/device-sessions', c.DeviceSessionGrant, {
      id: randomUUID(),
      user,
      device: 'sw-lab',
    })
  ).data!;
}

before(async () => {
  api = await startApi();
  client = new ApiClient({ baseUrl: api.url, authorization: () => `Bearer ${api.serviceToken('ssh')}` });
  recDir = mkdtempSync(join(tmpdir(), 'jmp-device-rec-'));
  sshd = await startLegacySshd('netadmin', PASSWORD);
  await client.request('POST', '/v1/device-keys', c.DeviceKeyState, { publicKey: key.publicKey });
  const p = await addProject(api.db);
  const s = await addService(api.db, p.id);
  ops = await addUser(api.db);
  await addRole(api.db, (ops as { id: number } & typeof ops).id, 'service', s.id, 'ops');
  admin = await addUser(api.db, { is_admin: true });
  await addRole(api.db, (admin as { id: number } & typeof admin).id, 'service', s.id, 'ops');
  nobody = await addUser(api.db);
  const profiles = (await A('GET', '/v1/device-profiles')).body.items as Array<{ id: number; name: string }>;
  const d = await A('POST', '/v1/devices', {
    name: 'sw-lab',
    address: '127.0.0.1',
    port: sshd.port,
    protocol: 'ssh',
    profileId: profiles.find((x) => x.name === 'legacy-ssh')!.id,
    serviceId: s.id,
  });
  deviceId = d.body.id;
  const acc = await A('POST', `/v1/devices/${deviceId}/accounts`, { name: 'netadmin', secret: PASSWORD });
  accountId = acc.body.accounts[0].id;
});

after(async () => {
  await sshd?.stop();
  await api?.close();
  rmSync(recDir, { recursive: true, force: true });
});

test('a person without the device right is refused before any connection is made', async () => {
  const before = (sshd.log().match(/Connection from/g) ?? []).length;
  const person = new Person();
  person.context = () => sshd.log().slice(-1500);
  const code = await open(person, 'sw-lab', nobody.username);
  assert.equal(code, 1);
  assert.match(person.out, /no device right for .* on sw-lab; request access in jmp/);
  assert.equal((sshd.log().match(/Connection from/g) ?? []).length, before, 'the device saw no connection');
});

/** Copies of ssh2's default algorithm lists (what every other connection negotiates with). */
const ssh2Defaults = () => {
  const k = createRequire(import.meta.url)('ssh2/lib/protocol/constants.js') as Record<string, string[]>;
  const lists = ['DEFAULT_KEX', 'DEFAULT_SERVER_HOST_KEY', 'DEFAULT_CIPHER', 'DEFAULT_MAC'];
  return Object.fromEntries(lists.map((l) => [l, [...k[l]!]]));
};
const defaultsAtStart = ssh2Defaults();

test('the default algorithms fail with the named handshake error; the legacy profile connects', async () => {
  const g = await grantFor(admin.username);
  const modern = { ...g, profile: { ...g.profile, name: 'generic-ssh', spec: { ...g.profile.spec, algorithms: {} } } };
  await assert.rejects(
    connectSshDevice(modern, PASSWORD, { pty: { term: 'xterm', cols: 80, rows: 24 }, timeoutMs: 5000 }),
    (e: unknown) =>
      e instanceof DeviceError &&
      e.kind === 'handshake_failed' &&
      /refused the SSH handshake with profile generic-ssh: .*no matching/i.test(e.message),
  );
  const dev = await connectSshDevice(g, PASSWORD, { pty: { term: 'xterm', cols: 80, rows: 24 }, timeoutMs: 5000 });
  assert.match(dev.hostKey, /^ssh-rsa /);
  dev.close();
  // The legacy algorithms were this connection's only: ssh2's defaults are unchanged, and the default profile still fails.
  assert.deepEqual(ssh2Defaults(), defaultsAtStart);
  assert.ok(!ssh2Defaults().DEFAULT_KEX!.includes('diffie-hellman-group14-sha1'));
  assert.ok(!ssh2Defaults().DEFAULT_CIPHER!.includes('aes128-cbc'));
  await assert.rejects(
    connectSshDevice(modern, PASSWORD, { pty: { term: 'xterm', cols: 80, rows: 24 }, timeoutMs: 5000 }),
    (e: unknown) => e instanceof DeviceError && e.kind === 'handshake_failed',
  );
});

test('an administrator pins the host key on first use; a session runs guarded: a blocked command never reaches the device', async () => {
  // First use by an administrator pins the key.
  const first = new Person();
  const done1 = open(first, 'sw-lab', admin.username);
  await first.until(/sw-lab# $/);
  assert.match(first.out, /host key is now pinned/);
  first.type('exit\r');
  await done1;
  assert.match((await A('GET', `/v1/devices/${deviceId}`)).body.hostKey, /^ssh-rsa /);

  const person = new Person();
  person.context = () => sshd.log().slice(-1500);
  const done = open(person, 'sw-lab', ops.username);
  await person.until(/sw-lab# $/);
  person.type('show version\r');
  await person.until(/Lab IOS 15\.2/);
  await person.until(/sw-lab# $/);
  person.type('write erase\r');
  await person.until(/write erase/i);
  await person.until(/blocked|not allowed|refused/i);
  person.type('show clock\r');
  await person.until(/% done: show clock/);
  person.type('exit\r');
  assert.equal(await done, 0);
  const got = sshd.received();
  assert.ok(got.includes('show version') && got.includes('show clock'), JSON.stringify(got));
  assert.ok(!got.some((l) => /write\s+erase/i.test(l)), `the device received: ${JSON.stringify(got)}`);
  // The command log has the verdicts.
  await new Promise((r) => setTimeout(r, 1500));
  const cmds = await api.db('commands').orderBy('id').select('line', 'verdict');
  assert.ok(
    cmds.some((x: { line: string; verdict: string }) => /write erase/.test(x.line) && x.verdict === 'block'),
    JSON.stringify(cmds),
  );
});

test('a wrong stored password: one try, a clear line, audited; the device key is needed to open secrets', async () => {
  await A('PUT', `/v1/devices/${deviceId}/accounts/${accountId}/secret`, { secret: 'not-the-password' });
  const failedBefore = (sshd.log().match(/Failed password/g) ?? []).length;
  const person = new Person();
  person.context = () => sshd.log().slice(-1500);
  const code = await open(person, 'sw-lab', ops.username);
  assert.equal(code, 1);
  assert.match(person.out, /sw-lab refused the stored secret of account netadmin \(tried once, not again\)/);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((sshd.log().match(/Failed password/g) ?? []).length - failedBefore, 1, 'exactly one try');
  assert.ok(await api.db('audit_events').where({ action: 'device.login_failed' }).first());
  // Another jmp-ssh key cannot open the secret.
  const other = parseDevicePrivateKey(generateDeviceKeyPair().privatePem);
  const p2 = new Person();
  assert.equal(await open(p2, 'sw-lab', ops.username, other), 1);
  assert.match(p2.out, /device key cannot open the secret/);
  await A('PUT', `/v1/devices/${deviceId}/accounts/${accountId}/secret`, { secret: PASSWORD });
});

test('a device that is down, and one that never shows its prompt: a clear line each, audited', async () => {
  const profiles = (await A('GET', '/v1/device-profiles')).body.items as Array<{
    id: number;
    name: string;
    spec: object;
  }>;
  const legacy = profiles.find((x) => x.name === 'legacy-ssh')!;
  const mute = await A('POST', '/v1/device-profiles', {
    name: 'mute-ssh',
    spec: { ...legacy.spec, prompt: 'never-shown>$', promptTimeoutSeconds: 1 },
  });
  assert.equal(mute.status, 201, JSON.stringify(mute.body));
  const serviceId = (await A('GET', `/v1/devices/${deviceId}`)).body.serviceId;
  const mk = async (name: string, port: number, profileId: number) => {
    const d = await A('POST', '/v1/devices', {
      name,
      address: '127.0.0.1',
      port,
      protocol: 'ssh',
      profileId,
      serviceId,
    });
    await A('POST', `/v1/devices/${d.body.id}/accounts`, { name: 'netadmin', secret: PASSWORD });
    await A('PATCH', `/v1/devices/${d.body.id}`, { hostKey: (await A('GET', `/v1/devices/${deviceId}`)).body.hostKey });
  };
  await mk('sw-down', 1, legacy.id);
  await mk('sw-mute', sshd.port, mute.body.id);

  const down = new Person();
  const t0 = Date.now();
  assert.equal(await open(down, 'sw-down', ops.username), 1);
  assert.match(down.out, /sw-down \(127\.0\.0\.1:1\) cannot be reached: .*ECONNREFUSED/);
  assert.ok(Date.now() - t0 < 3000);
  assert.ok(await api.db('audit_events').where({ action: 'device.unreachable' }).first());

  const mutePerson = new Person();
  const code = await open(mutePerson, 'sw-mute', ops.username);
  assert.equal(code, 1);
  assert.match(mutePerson.out, /sw-mute showed no prompt within 1 s; the session is closed/);
  assert.ok(await api.db('audit_events').where({ action: 'device.prompt_timeout' }).first());
  const ended = await api.db('sessions').whereNotNull('device_id').where({ end_reason: 'prompt_timeout' }).first();
  assert.ok(ended, 'the session record is closed with the reason');
});

test('no device password in pg_dump, the logs or the recordings', () => {
  assertSecretNowhere(PASSWORD, api.config.databaseUrl!, logLines, recDir);
  assert.ok(!sshd.log().includes(PASSWORD), 'the device log');
});
