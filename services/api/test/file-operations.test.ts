// File operations as jmp-sftp and jmp-ssh's sftp subsystem report them: only
// those two services may send them, a batch sent twice is stored once, an
// unknown session keeps its names without a dangling reference, refusals go
// to the audit chain; a host's transfer mode comes from its service;
// administrators and auditors list everyone's by host, user and path prefix,
// others only their own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startApi, addUser, addProject, addService, addHost, webLogin, type TestApi } from './harness.js';

let api: TestApi;
let alice: { id: number; username: string };
let bob: { id: number; username: string };
let host: { id: number; hostname: string };

before(async () => {
  api = await startApi({ redis: false });
  alice = await addUser(api.db, { password: 'alice password 1' });
  bob = await addUser(api.db, { password: 'bob password 12' });
  await addUser(api.db, { username: 'auditor1', password: 'auditor password', is_auditor: true });
  const svc = await addService(api.db, (await addProject(api.db)).id);
  await api.db('services').where({ id: svc.id }).update({ file_transfer: 'download' });
  host = await addHost(api.db, { service_id: svc.id });
});
after(async () => {
  await api?.close();
});

const op = (user: string, path: string, extra: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  user,
  host: host.hostname,
  path,
  operation: 'upload',
  bytesRead: 0,
  bytesWritten: 5,
  durationMs: 3,
  result: 'ok',
  sha256: 'b'.repeat(64),
  at: new Date().toISOString(),
  ...extra,
});
const post = (role: 'sftp' | 'ssh' | 'socket', operations: unknown[]) =>
  api.call('POST', '/v1/file-operations', { auth: `Bearer ${api.serviceToken(role)}`, body: { operations } });

test('jmp-sftp and jmp-ssh report operations; jmp-socket may not; a repeated batch is stored once', async () => {
  const a = op(alice.username, `/${host.hostname}/tmp/a`, { session: randomUUID() });
  assert.equal((await post('sftp', [a])).status, 201);
  assert.equal((await post('sftp', [a])).status, 201);
  assert.equal(
    (await post('ssh', [op(bob.username, `/${host.hostname}/etc/b`, { operation: 'download' })])).status,
    201,
  );
  assert.equal((await post('socket', [op(alice.username, '/x')])).status, 403);
  const rows = await api.db('file_operations').where({ id: a.id });
  assert.equal(rows.length, 1);
  assert.equal(rows[0].session_id, null, 'a session jmp-api does not know is not referenced');
  assert.equal((await post('sftp', [{ ...op(alice.username, '/x'), sha256: 'not hex' }])).status, 400);
});

test('a refusal is stored and appended to the audit chain', async () => {
  const r = op(alice.username, `/${host.hostname}/tmp/refused`, { result: 'refused', message: 'download-only' });
  assert.equal((await post('sftp', [r])).status, 201);
  const ev = await api
    .db('audit_events')
    .where({ action: 'file.refused', target: `${alice.username}@${host.hostname}` });
  assert.equal(ev.length, 1);
});

test("a host's transfer mode is its service's", async () => {
  const r = await api.call('GET', `/v1/file-operations/policy?host=${host.hostname}`, {
    auth: `Bearer ${api.serviceToken('sftp')}`,
  });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { host: host.hostname, mode: 'download' });
  const missing = await api.call('GET', '/v1/file-operations/policy?host=nope', {
    auth: `Bearer ${api.serviceToken('sftp')}`,
  });
  assert.equal(missing.status, 404);
});

test('auditors filter everyone’s operations by host, user and path prefix; a person sees only her own', async () => {
  const auditor = await webLogin(api, 'auditor1', 'auditor password');
  const all = await api.call('GET', `/v1/file-operations?host=${host.hostname}&path=/${host.hostname}/tmp/`, {
    headers: auditor.cookie,
  });
  assert.equal(all.status, 200);
  assert.deepEqual(all.body.items.map((i: { path: string }) => i.path).sort(), [
    `/${host.hostname}/tmp/a`,
    `/${host.hostname}/tmp/refused`,
  ]);
  const byUser = await api.call('GET', `/v1/file-operations?user=${bob.username}`, { headers: auditor.cookie });
  assert.deepEqual(
    byUser.body.items.map((i: { user: string }) => i.user),
    [bob.username],
  );
  const mine = await webLogin(api, bob.username, 'bob password 12');
  const own = await api.call('GET', '/v1/file-operations', { headers: mine.cookie });
  assert.equal(own.status, 200);
  assert.ok(own.body.items.length >= 1);
  assert.ok(own.body.items.every((i: { user: string }) => i.user === bob.username));
  // A LIKE wildcard in the prefix is taken literally.
  const literal = await api.call('GET', '/v1/file-operations?path=%25', { headers: auditor.cookie });
  assert.equal(literal.body.total, 0);
});
