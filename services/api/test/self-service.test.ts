// /v1/me/…: a person enrols her own TOTP (active only after a correct code;
// a second enrolment is refused, an administrator resets it), adds and removes
// her SSH keys, and reads her rights with their origin; the hosts list says
// production / non-production and the agent's liveness apart.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  addGrant,
  addHost,
  addProject,
  addRole,
  addService,
  addUser,
  startApi,
  webLogin,
  type TestApi,
} from './harness.js';
import { totpCode } from '../src/crypto/totp.js';

let api: TestApi;
let carol: { cookie: Record<string, string>; id: number };
let ids: { project: number; service: number; host: number; grant: number };

function ed25519Line(comment: string): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const name = Buffer.from('ssh-ed25519');
  const len = (b: Buffer) => Buffer.from([0, 0, 0, b.length]);
  return `ssh-ed25519 ${Buffer.concat([len(name), name, len(raw), raw]).toString('base64')} ${comment}`;
}

before(async () => {
  api = await startApi();
  const u = await addUser(api.db, { username: 'carol', password: 'carol password 1' });
  const project = await addProject(api.db, 'shop');
  const service = await addService(api.db, project.id, 'web');
  const host = await addHost(api.db, { hostname: 'web-9', service_id: service.id, state: 'offline' });
  await addRole(api.db, u.id, 'service', service.id, 'ops');
  const other = await addHost(api.db, { hostname: 'db-9' });
  const until = new Date(Date.now() + 3600_000);
  const grant = await addGrant(api.db, {
    subject_id: u.id,
    scope_type: 'host',
    scope_id: other.id,
    right: 'login',
    valid_until: until,
  });
  ids = { project: project.id, service: service.id, host: host.id, grant: grant.id };
  carol = { cookie: (await webLogin(api, 'carol', 'carol password 1')).cookie, id: u.id };
});

after(async () => {
  await api?.close();
});

const call = (method: string, path: string, body?: unknown) =>
  api.call(method, path, { headers: carol.cookie, ...(body === undefined ? {} : { body }) });

test('TOTP: a seed becomes active only with a correct code; then logins ask for it', async () => {
  assert.deepEqual((await call('GET', '/v1/me/totp')).body, { enabled: false, pending: false });
  const noStart = await call('POST', '/v1/me/totp/confirm', { code: '123456' });
  assert.equal(noStart.status, 409);
  assert.match(noStart.body.error.message, /no TOTP enrolment is waiting/);

  const start = await call('POST', '/v1/me/totp');
  assert.equal(start.status, 201);
  assert.equal(start.headers.get('cache-control'), 'no-store');
  assert.match(start.body.uri, /^otpauth:\/\/totp\/jmp:carol\?secret=/);
  assert.deepEqual((await call('GET', '/v1/me/totp')).body, { enabled: false, pending: true });
  // Not active yet: a login needs no code.
  await webLogin(api, 'carol', 'carol password 1');

  const good = totpCode(start.body.secret);
  const wrong = await call('POST', '/v1/me/totp/confirm', { code: good === '000000' ? '111111' : '000000' });
  assert.equal(wrong.status, 400);
  assert.match(wrong.body.error.message, /^body\.code: wrong code/);
  const malformed = await call('POST', '/v1/me/totp/confirm', { code: '12ab' });
  assert.equal(malformed.status, 400);
  assert.match(malformed.body.error.message, /body\.code: must be the 6 digits/);

  assert.equal((await call('POST', '/v1/me/totp/confirm', { code: good })).status, 204);
  assert.deepEqual((await call('GET', '/v1/me/totp')).body, { enabled: true, pending: false });
  const again = await call('POST', '/v1/me/totp');
  assert.equal(again.status, 409);
  assert.match(again.body.error.message, /ask an administrator to reset it/);

  const pw = await api.call('POST', '/v1/auth/web', { body: { username: 'carol', password: 'carol password 1' } });
  assert.equal(pw.status, 401);
  assert.equal(pw.body.error.code, 'totp_required');
  const audit = await api.db('audit_events').where({ action: 'user.totp_enrolled', target: 'user:carol' }).first();
  assert.equal(audit.actor, 'user:carol');
  assert.deepEqual(audit.data, { self: true });
});

test('SSH keys: add, list, refuse a bad or duplicate key with the field, remove', async () => {
  const line = ed25519Line('carol@laptop');
  const added = await call('POST', '/v1/me/keys', { publicKey: line });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  assert.equal(added.body.comment, 'carol@laptop');
  assert.match(added.body.fingerprint, /^SHA256:/);
  const dup = await call('POST', '/v1/me/keys', { publicKey: line });
  assert.equal(dup.status, 409);
  assert.match(dup.body.error.message, /already registered/);
  const bad = await call('POST', '/v1/me/keys', { publicKey: 'ssh-ed25519 AAAA' });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error.message, /^body\.publicKey/);
  const list = await call('GET', '/v1/me/keys');
  assert.deepEqual(
    list.body.items.map((k: { id: number }) => k.id),
    [added.body.id],
  );
  // Someone else's key id is not found, never removed.
  const bob = await addUser(api.db, { username: 'bobby', password: 'bobby password 1' });
  const [theirs] = await api
    .db('user_ssh_keys')
    .insert({ user_id: bob.id, public_key: ed25519Line('b'), fingerprint: 'SHA256:x', comment: '' })
    .returning('id');
  assert.equal((await call('DELETE', `/v1/me/keys/${theirs.id}`)).status, 404);
  assert.equal((await call('DELETE', `/v1/me/keys/${added.body.id}`)).status, 204);
  assert.deepEqual((await call('GET', '/v1/me/keys')).body.items, []);
});

test('rights: each with its origin; hosts: environment and agent liveness apart', async () => {
  const r = await call('GET', '/v1/me/rights');
  assert.equal(r.status, 200);
  const [role, grant] = r.body.items;
  assert.deepEqual(role.scope, { type: 'service', id: ids.service, name: 'shop/web' });
  assert.equal(role.origin, 'ops of shop/web');
  assert.equal(role.right, 'login + root');
  assert.equal(grant.kind, 'grant');
  assert.match(grant.origin, new RegExp(`^grant #${ids.grant} until \\d{4}-`));
  assert.equal(grant.scope.name, 'db-9');

  await api
    .db('hosts')
    .where({ id: ids.host })
    .update({
      last_seen_at: new Date(),
      agent_public_key: 'x',
      agent_status: JSON.stringify({ version: '0.1.0' }),
    });
  const hosts = await call('GET', '/v1/me/hosts');
  const web9 = hosts.body.hosts.find((h: { hostname: string }) => h.hostname === 'web-9');
  assert.equal(web9.state, 'offline');
  assert.equal(web9.agent.enrolled, true);
  assert.equal(web9.agent.version, '0.1.0');
  assert.equal(web9.agent.failMode, 'deny');
  assert.ok(Date.now() - Date.parse(web9.agent.lastSeenAt) < 60_000);
});

test('self-service needs a session', async () => {
  for (const [m, p] of [
    ['GET', '/v1/me/totp'],
    ['POST', '/v1/me/totp'],
    ['GET', '/v1/me/keys'],
    ['GET', '/v1/me/rights'],
  ] as const)
    assert.equal((await api.call(m, p)).status, 401, `${m} ${p}`);
});
