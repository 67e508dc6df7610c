// Telnet devices end to end: real jmp-api, jmp-ssh's device session code, and
// inetutils telnetd with /bin/login in front of the device CLI; plus small
// misbehaving telnet servers for the option flood and the missing prompt.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PseudoTtyInfo, ServerChannel } from 'ssh2';
import { ApiClient, contract as c } from '@jmp/contract';
import { generateDeviceKeyPair, parseDevicePrivateKey } from '@jmp/contract/device-secrets';
import { startApi, addUser, addProject, addService, addRole, type TestApi } from '../../services/api/test/harness.js';
import { deviceSession } from '../../services/ssh/src/device/device-session.js';
import { OPTION_FLOOD_PER_SECOND } from '../../services/ssh/src/device/telnet-channel.js';
import { Person, assertSecretNowhere, deviceSessionCtx } from './session.js';
import { startTelnetd, type Telnetd } from './telnetd.js';

const PASSWORD = 'T3lnet-Dev!ce-4k';
const key = generateDeviceKeyPair();
const deviceKey = parseDevicePrivateKey(key.privatePem);
let api: TestApi;
let telnetd: Telnetd;
let client: ApiClient;
let recDir: string;
const logLines: string[] = [];
let ops: { username: string };
let serviceId: number;
let profileId: number;
let fastProfileId: number;
const fakes: Server[] = [];

const A = (m: string, p: string, body?: unknown) =>
  api.call(m, p, { body, auth: `Bearer ${api.serviceToken('admin')}` });
const open = (
  person: Person,
  device: string,
  size?: { cols: number; rows: number },
  resize?: { fn: ((p: PseudoTtyInfo) => void) | null },
) =>
  deviceSession(
    person as unknown as ServerChannel,
    device,
    undefined,
    deviceSessionCtx(client, ops.username, recDir, logLines, size, resize),
    deviceKey,
  );

async function addDevice(name: string, port: number, profile: number, secret = PASSWORD): Promise<number> {
  const d = await A('POST', '/v1/devices', {
    name,
    address: '127.0.0.1',
    port,
    protocol: 'telnet',
    profileId: profile,
    serviceId,
  });
  assert.equal(d.status, 201, JSON.stringify(d.body));
  await A('POST', `/v1/devices/${d.body.id}/accounts`, { name: 'netadmin', secret });
  return d.body.id;
}

/** A telnet server that runs `behave` on each connection. */
async function fakeDevice(behave: (s: import('node:net').Socket) => void): Promise<number> {
  const srv = createServer(behave);
  fakes.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as { port: number }).port;
}

before(async () => {
  api = await startApi();
  client = new ApiClient({ baseUrl: api.url, authorization: () => `Bearer ${api.serviceToken('ssh')}` });
  recDir = mkdtempSync(join(tmpdir(), 'jmp-telnet-rec-'));
  telnetd = await startTelnetd('netadmin', PASSWORD);
  await client.request('POST', '/v1/device-keys', c.DeviceKeyState, { publicKey: key.publicKey });
  const p = await addProject(api.db);
  serviceId = (await addService(api.db, p.id)).id;
  ops = await addUser(api.db);
  await addRole(api.db, (ops as { id: number } & typeof ops).id, 'service', serviceId, 'ops');
  const profiles = (await A('GET', '/v1/device-profiles')).body.items as Array<{
    id: number;
    name: string;
    spec: object;
  }>;
  const telnet = profiles.find((x) => x.name === 'generic-telnet')!;
  profileId = telnet.id;
  fastProfileId = (
    await A('POST', '/v1/device-profiles', { name: 'telnet-fast', spec: { ...telnet.spec, promptTimeoutSeconds: 2 } })
  ).body.id;
  await addDevice('tn-lab', telnetd.port, profileId);
});

after(async () => {
  for (const s of fakes) s.close();
  await telnetd?.stop();
  await api?.close();
  rmSync(recDir, { recursive: true, force: true });
});

test('telnet: the login sequence from the profile, NAWS sent and updated (255 columns: IAC escaped), 0xFF in output, a blocked command never reaches the device', async () => {
  const person = new Person();
  const resize: { fn: ((p: PseudoTtyInfo) => void) | null } = { fn: null };
  const done = open(person, 'tn-lab', { cols: 100, rows: 30 }, resize);
  await person.until(/sw-lab# $/, 10_000);
  assert.ok(!/login:|Password:/i.test(person.out), `the login exchange is not shown: ${JSON.stringify(person.out)}`);
  assert.ok(!person.out.includes(PASSWORD));
  person.type('show size\r');
  await person.until(/size 30 100/);
  resize.fn!({ cols: 255, rows: 40, width: 0, height: 0 } as PseudoTtyInfo);
  await new Promise((r) => setTimeout(r, 200));
  person.type('show size\r');
  await person.until(/size 40 255/);
  person.type('show binary\r');
  await person.until(/bin:.*:end/);
  assert.ok(
    person.raw.includes(Buffer.from([0x62, 0x69, 0x6e, 0x3a, 0xff, 0xfe, 0x3a])),
    'the 0xFF byte arrives as one 0xFF',
  );
  person.type('write erase\r');
  await person.until(/write erase/);
  await person.until(/blocked|not allowed|refused/i);
  person.type('exit\r');
  assert.equal(await done, 0);
  const got = telnetd.received();
  assert.ok(got.includes('show size') && got.includes('show binary'), JSON.stringify(got));
  assert.ok(!got.some((l) => /write\s+erase/.test(l)), JSON.stringify(got));
});

test('telnet: a wrong stored password is tried once, with a clear line and an audit event', async () => {
  await addDevice('tn-wrong', telnetd.port, profileId, 'not-the-password'); // login waits its FAIL_DELAY (3 s)
  const before = telnetd.received().length;
  const person = new Person();
  assert.equal(await open(person, 'tn-wrong'), 1);
  assert.match(person.out, /tn-wrong refused the stored secret of account netadmin .*tried once, not again/);
  assert.ok(!person.out.includes('not-the-password'));
  assert.equal(telnetd.received().length, before, 'the CLI never ran');
  assert.ok(await api.db('audit_events').where({ action: 'device.login_failed' }).first());
});

test('telnet: an option flood is cut off, and a device without a login prompt times out, each with a clear line', async () => {
  const flood = await fakeDevice((s) => {
    const dos = Buffer.alloc(3 * (OPTION_FLOOD_PER_SECOND * 5));
    for (let i = 0; i < dos.length; i += 3) dos.set([255, i % 2 ? 253 : 251, 40 + ((i / 3) % 200)], i);
    s.write(dos);
    s.on('error', () => {});
  });
  await addDevice('tn-flood', flood, fastProfileId);
  const p1 = new Person();
  assert.equal(await open(p1, 'tn-flood'), 1);
  assert.match(p1.out, /tn-flood flooded the connection with telnet options: closed/);

  const mute = await fakeDevice((s) => {
    s.write('Welcome\r\n');
    s.on('error', () => {});
  });
  await addDevice('tn-mute', mute, fastProfileId);
  const p2 = new Person();
  const t0 = Date.now();
  assert.equal(await open(p2, 'tn-mute'), 1);
  assert.match(p2.out, /tn-mute showed no login prompt \(login\) within 2 s/);
  assert.ok(Date.now() - t0 < 5000);
  assert.ok(await api.db('audit_events').where({ action: 'device.prompt_timeout' }).first());
});

test('telnet: no device password in pg_dump, the logs or the recordings', () => {
  assertSecretNowhere(PASSWORD, api.config.databaseUrl!, logLines, recDir);
});
