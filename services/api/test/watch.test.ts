// Watching a live session through jmp-api: jmp-ssh's heartbeat learns which
// sessions are watched (and whether to tell the person), sends their output,
// the watcher reads it after its cursor; the first poll of a watch is audited;
// auditors may watch but not end a session; people and jmp-ssh cannot watch.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { addHost, addUser, startApi, webLogin, type TestApi } from './harness.js';

let api: TestApi;
const id = randomUUID();
const who: Record<string, Record<string, string>> = {};
let ssh: string;

before(async () => {
  api = await startApi();
  const alice = await addUser(api.db, { username: 'alice', password: 'alice password 1' });
  await addUser(api.db, { username: 'ada', password: 'ada password 123', is_admin: true });
  await addUser(api.db, { username: 'audrey', password: 'audrey password', is_auditor: true });
  const host = await addHost(api.db, { hostname: 'web1' });
  await api.db('sessions').insert({ id, user_id: alice.id, host_id: host.id, protocol: 'ssh' });
  for (const [u, p] of [
    ['alice', 'alice password 1'],
    ['ada', 'ada password 123'],
    ['audrey', 'audrey password'],
  ] as const)
    who[u] = (await webLogin(api, u, p)).cookie;
  ssh = `Bearer ${api.serviceToken('ssh')}`;
});

after(async () => {
  await api?.close();
});

const beat = async () =>
  (await api.call('POST', '/v1/sessions/heartbeat', { auth: ssh, body: { instance: 'i1', sessions: [id] } })).body;
const poll = (u: string, after?: number) =>
  api.call('GET', `/v1/sessions/${id}/watch${after === undefined ? '' : `?after=${after}`}`, { headers: who[u]! });
const push = (text: string) =>
  api.call('POST', `/v1/sessions/${id}/output`, {
    auth: ssh,
    body: { chunks: [Buffer.from(text).toString('base64')] },
  });
const decode = (chunks: string[]) => chunks.map((c) => Buffer.from(c, 'base64').toString()).join('');

test('heartbeat → watched, output after the cursor, one audit entry per watch', async () => {
  assert.deepEqual((await beat()).watched, [], 'nobody watches yet');
  const first = await poll('ada');
  assert.equal(first.status, 200);
  assert.equal(first.body.live, true);
  assert.deepEqual(first.body.chunks, [], 'a watch starts from now');
  assert.deepEqual((await beat()).watched, [{ id, notice: true }]);

  assert.equal((await push('alice@web1:~$ whoami\r\n')).status, 204);
  assert.equal((await push('alice\r\n')).status, 204);
  const second = await poll('ada', first.body.next);
  assert.equal(decode(second.body.chunks), 'alice@web1:~$ whoami\r\nalice\r\n');
  const third = await poll('ada', second.body.next);
  assert.deepEqual(third.body.chunks, [], 'nothing twice');

  const audits = await api.db('audit_events').where({ action: 'session.watch', target: id });
  assert.equal(audits.length, 1);
  assert.equal(audits[0].actor, 'user:ada');
});

test('auditors watch but cannot end; the person and services cannot watch; no output path for users', async () => {
  assert.equal((await poll('audrey')).status, 200);
  const end = await api.call('POST', `/v1/sessions/${id}/terminate`, { headers: who.audrey!, body: {} });
  assert.equal(end.status, 403);
  assert.equal((await poll('alice')).status, 403);
  const bySsh = await api.call('GET', `/v1/sessions/${id}/watch`, { auth: ssh });
  assert.ok([401, 403].includes(bySsh.status), `jmp-ssh cannot watch (${bySsh.status})`);
  const forged = await api.call('POST', `/v1/sessions/${id}/output`, {
    headers: who.ada!,
    body: { chunks: ['eA=='] },
  });
  assert.ok([401, 403].includes(forged.status), `a person cannot send output (${forged.status})`);
  const unknown = await api.call('GET', `/v1/sessions/${randomUUID()}/watch`, { headers: who.ada! });
  assert.equal(unknown.status, 404);
});
